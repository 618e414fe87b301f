// Small progressive enhancements; every page works without them.
// The browser's IANA time zone: sent with the sign-in form (adopted when the person has not
// chosen one yet) and offered on Your settings.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }
  if (!zone) {
    return;
  }
  function ready() {
    document.querySelectorAll("input[name=browser_time_zone]").forEach(function (input) {
      input.value = zone;
    });
    var offer = document.querySelector("[data-browser-zone-offer]");
    var select = document.getElementById("time_zone");
    if (offer && select && select.value !== zone) {
      offer.querySelector("[data-browser-zone]").textContent = zone;
      offer.hidden = false;
      offer.querySelector("[data-use-browser-zone]").addEventListener("click", function () {
        select.value = zone;
        offer.hidden = true;
        select.focus();
      });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
