//! The single sign-on settings: the OpenID Provider's issuer, Accord's client there, which claim
//! holds the email, which email domains may get an account on first sign-in, and whether the
//! password form stays. Each bad value names its variable.

use url::Url;

use crate::config::ConfigError;

/// OpenID Connect sign-in, when configured.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub issuer: Url,
    pub client_id: String,
    pub client_secret: String,
    /// The ID token claim holding the email (`email` unless the provider uses another).
    pub email_claim: String,
    /// Email domains whose people get an account at their first sign-in (lower case); others
    /// must have been invited.
    pub allowed_domains: Vec<String>,
    /// "Sign in with <name>".
    pub name: String,
}

impl OidcConfig {
    /// Whether an account may be created just in time for `email`.
    pub fn domain_allowed(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map(|(_, d)| d.to_lowercase());
        domain.is_some_and(|d| self.allowed_domains.contains(&d))
    }
}

/// The raw settings.
pub struct Raw<'a> {
    pub issuer: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub client_secret: Option<&'a str>,
    pub email_claim: &'a str,
    pub allowed_domains: Option<&'a str>,
    pub name: Option<&'a str>,
    pub password_sign_in: &'a str,
}

fn given(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

fn invalid(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// The OIDC settings (`None` when no issuer is set), and whether password sign-in stays on.
pub fn validate(raw: &Raw<'_>) -> Result<(Option<OidcConfig>, bool), ConfigError> {
    let password = match raw.password_sign_in.trim() {
        "true" | "1" | "yes" | "" => true,
        "false" | "0" | "no" => false,
        other => {
            return Err(invalid(
                "ACCORD_PASSWORD_SIGN_IN",
                format!("{other:?} is neither true nor false"),
            ));
        }
    };
    let Some(issuer) = given(raw.issuer) else {
        for (variable, value) in [
            ("ACCORD_OIDC_CLIENT_ID", raw.client_id),
            ("ACCORD_OIDC_CLIENT_SECRET", raw.client_secret),
            ("ACCORD_OIDC_ALLOWED_DOMAINS", raw.allowed_domains),
        ] {
            if given(value).is_some() {
                return Err(invalid(
                    variable,
                    "set, but ACCORD_OIDC_ISSUER is not: single sign-on needs the issuer too",
                ));
            }
        }
        if !password {
            return Err(invalid(
                "ACCORD_PASSWORD_SIGN_IN",
                "false, but single sign-on is not configured (ACCORD_OIDC_ISSUER): nobody could sign in",
            ));
        }
        return Ok((None, true));
    };
    let issuer = Url::parse(issuer)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
        .ok_or_else(|| {
            invalid(
                "ACCORD_OIDC_ISSUER",
                "expected the provider's issuer URL, like https://login.example.com/realms/acme",
            )
        })?;
    let client_id = given(raw.client_id)
        .ok_or_else(|| invalid("ACCORD_OIDC_CLIENT_ID", "required with ACCORD_OIDC_ISSUER"))?;
    let client_secret = given(raw.client_secret).ok_or_else(|| {
        invalid(
            "ACCORD_OIDC_CLIENT_SECRET",
            "required with ACCORD_OIDC_ISSUER",
        )
    })?;
    let email_claim = raw.email_claim.trim();
    if email_claim.is_empty() {
        return Err(invalid(
            "ACCORD_OIDC_EMAIL_CLAIM",
            "name the claim, like email",
        ));
    }
    let mut allowed_domains = Vec::new();
    for domain in given(raw.allowed_domains).unwrap_or("").split(',') {
        let domain = domain.trim().to_lowercase();
        if domain.is_empty() {
            continue;
        }
        if !domain.contains('.') || domain.contains('@') || domain.contains(' ') {
            return Err(invalid(
                "ACCORD_OIDC_ALLOWED_DOMAINS",
                format!("{domain:?} is not a domain like example.com"),
            ));
        }
        allowed_domains.push(domain);
    }
    let name = given(raw.name)
        .map(str::to_owned)
        .or_else(|| issuer.host_str().map(str::to_owned))
        .unwrap_or_default();
    Ok((
        Some(OidcConfig {
            issuer,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            email_claim: email_claim.to_owned(),
            allowed_domains,
            name,
        }),
        password,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> Raw<'static> {
        Raw {
            issuer: Some("https://login.example.com/realms/acme"),
            client_id: Some("accord"),
            client_secret: Some("s3cret"),
            email_claim: "email",
            allowed_domains: Some("Example.com, acme.example"),
            name: Some("Acme SSO"),
            password_sign_in: "true",
        }
    }

    #[test]
    fn a_complete_setting_validates_and_domains_are_lower_case() {
        let (oidc, password) = validate(&raw()).unwrap();
        let oidc = oidc.unwrap();
        assert!(password);
        assert_eq!(oidc.allowed_domains, ["example.com", "acme.example"]);
        assert!(oidc.domain_allowed("Dana@EXAMPLE.com"));
        assert!(!oidc.domain_allowed("eve@evil.example"));
        assert!(!oidc.domain_allowed("no-at-sign"));
    }

    #[test]
    fn each_problem_names_its_variable() {
        let missing_secret = Raw {
            client_secret: None,
            ..raw()
        };
        assert_eq!(
            validate(&missing_secret).unwrap_err().variable,
            "ACCORD_OIDC_CLIENT_SECRET"
        );
        let no_issuer = Raw {
            issuer: None,
            ..raw()
        };
        assert_eq!(
            validate(&no_issuer).unwrap_err().variable,
            "ACCORD_OIDC_CLIENT_ID"
        );
        let bad_issuer = Raw {
            issuer: Some("login.example.com"),
            ..raw()
        };
        assert_eq!(
            validate(&bad_issuer).unwrap_err().variable,
            "ACCORD_OIDC_ISSUER"
        );
        let nobody = Raw {
            issuer: None,
            client_id: None,
            client_secret: None,
            allowed_domains: None,
            password_sign_in: "false",
            ..raw()
        };
        assert_eq!(
            validate(&nobody).unwrap_err().variable,
            "ACCORD_PASSWORD_SIGN_IN"
        );
        let bad_domain = Raw {
            allowed_domains: Some("example"),
            ..raw()
        };
        assert_eq!(
            validate(&bad_domain).unwrap_err().variable,
            "ACCORD_OIDC_ALLOWED_DOMAINS"
        );
    }
}
