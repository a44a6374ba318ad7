// The Kafka wire protocol layer in one import: primitives, generated message codecs,
// headers, error codes and the client connection.
export * from './io.js';
export * from './messages.js';
export * from './header.js';
export * from './errors.js';
export * from './client.js';
