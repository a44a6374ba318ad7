// Client quotas as Kafka's ClientQuotaManager keeps them: producer_byte_rate,
// consumer_byte_rate and request_percentage per user, client id or both, from /config/users
// and /config/clients with Kafka's precedence.

/** The quota keys of users and client ids, with Kafka's types. */
export const QUOTA_KEY_TYPES: Record<string, 'LONG' | 'DOUBLE'> = {
  producer_byte_rate: 'LONG',
  consumer_byte_rate: 'LONG',
  request_percentage: 'DOUBLE',
  controller_mutation_rate: 'DOUBLE',
}

export const QUOTA_KEYS = Object.keys(QUOTA_KEY_TYPES)
