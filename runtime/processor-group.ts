// The processors' consumer group, in a module of its own: the processor role consumes with it and
// the operator commands (replay) check that it is idle, without either importing the other.

/** The processors' consumer group (the Kafka adapter prefixes it with KAFKA_TOPIC_PREFIX). */
export const PROCESSOR_GROUP = 'kombo-sync-processor'
