// A real OpenID Provider for Accord's tests: the certified `oidc-provider`, one confidential
// client (Accord), its development login form (any password), and accounts whose claims the
// tests choose by the login they type:
//
//   dana@example.com             email dana@example.com, verified
//   unverified:dana@example.com  email dana@example.com, NOT verified
//
// The subject (`sub`) is the login as typed. Usage: node provider.mjs REDIRECT_URI
//
// It listens on a port the system chooses, and prints `ready ISSUER` once it listens: a port
// chosen by the caller beforehand could be taken by another process in between.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [redirectUri] = process.argv.slice(2);
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

function claimsOf(login) {
  const unverified = login.startsWith('unverified:');
  const email = unverified ? login.slice('unverified:'.length) : login;
  const name = email.split('@')[0].replace(/^./, (c) => c.toUpperCase());
  return { sub: login, email, email_verified: !unverified, name, upn: email };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'accord',
    client_secret: 'accord-test-client-secret',
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'upn'] },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return claimsOf(id); } };
  },
  // A first-party client: no consent screen, the grant is implied.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'upn']);
    await grant.save();
    return grant;
  },
  cookies: { keys: ['accord-test-only-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;

server.on('request', provider.callback());
console.log(`ready ${issuer}`);
