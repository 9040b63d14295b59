export { CloudClient, registerAgent, type ChannelHandlers } from './cloud/cloud-client.ts';
export { agentCredentials, generateAgentKey, type AgentCredentials } from './cloud/credentials.ts';
export { callJson, httpExchange, CloudApiError } from './cloud/http.ts';
export { tlsOptionsFor, spkiPinOf, PinMismatchError, type TlsTrust } from './cloud/tls-trust.ts';
