import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

/**
 * The identity provider's half of SAML 2.0 Web SSO, for tests: it reads the
 * AuthnRequest the service provider sends (HTTP-Redirect binding) and
 * answers with a Response whose Assertion it signs (xml-crypto: RSA-SHA256,
 * exclusive canonicalization), as AD FS does. Options break one thing at a
 * time (audience, validity window, the signed content) to prove the service
 * provider refuses it.
 */
export class TestSamlIdp {
  readonly entityId = 'http://idp.saml.example/adfs/services/trust';
  readonly ssoUrl = 'https://idp.saml.example/adfs/ls/';
  cert = '';
  #key = '';

  static async create(): Promise<TestSamlIdp> {
    const idp = new TestSamlIdp();
    const pems = await generate([{ name: 'commonName', value: 'idp.saml.example' }], { keySize: 2048, algorithm: 'sha256', notAfterDate: new Date(Date.now() + 30 * 86_400_000) });
    idp.cert = pems.cert;
    idp.#key = pems.private;
    return idp;
  }

  /** The request the service provider sent, from the redirect URL. */
  readRequest(redirect: string): { id: string; acs: string; issuer: string; relayState: string } {
    const url = new URL(redirect);
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    return {
      id: /\bID="([^"]+)"/.exec(xml)![1]!,
      acs: /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)![1]!,
      issuer: /<saml:Issuer[^>]*>([^<]+)<\/saml:Issuer>/.exec(xml)![1]!,
      relayState: url.searchParams.get('RelayState') ?? '',
    };
  }

  /** A signed Response to the request, for the user whose immutable id is `nameId`. */
  respond(request: { id: string; acs: string; issuer: string }, nameId: string, o: { audience?: string; notOnOrAfter?: Date; tamper?: (xml: string) => string } = {}): string {
    const now = new Date();
    const until = (o.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000)).toISOString();
    const id = () => `_${randomBytes(16).toString('hex')}`;
    const xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id()}" Version="2.0" IssueInstant="${now.toISOString()}" Destination="${request.acs}" InResponseTo="${request.id}">`
      + `<saml:Issuer>${this.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
      + `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id()}" Version="2.0" IssueInstant="${now.toISOString()}">`
      + `<saml:Issuer>${this.entityId}</saml:Issuer>`
      + `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${nameId}</saml:NameID>`
      + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData InResponseTo="${request.id}" NotOnOrAfter="${until}" Recipient="${request.acs}"/></saml:SubjectConfirmation></saml:Subject>`
      + `<saml:Conditions NotBefore="${new Date(now.getTime() - 60_000).toISOString()}" NotOnOrAfter="${until}"><saml:AudienceRestriction><saml:Audience>${o.audience ?? request.issuer}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
      + `<saml:AuthnStatement AuthnInstant="${now.toISOString()}" SessionIndex="${id()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
      + '</saml:Assertion></samlp:Response>';
    const sig = new SignedXml({ privateKey: this.#key, publicCert: this.cert, signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#' });
    sig.addReference({ xpath: "//*[local-name(.)='Assertion']", digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'] });
    sig.computeSignature(xml, { location: { reference: "//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' } });
    const signed = o.tamper ? o.tamper(sig.getSignedXml()) : sig.getSignedXml();
    return Buffer.from(signed).toString('base64');
  }
}

