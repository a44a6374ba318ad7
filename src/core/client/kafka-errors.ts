// Kafka's errors as the Java client sees them: for each protocol error code the exception
// class it raises (org.apache.kafka.common.errors.*), whether it is retriable (a subclass of
// RetriableException) and whether it means stale metadata (InvalidMetadataException). The
// client core decides retries from this table, and prints failures as Java does:
// "org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s) for t-0: ...".
import {errorMessage, errorName} from '../protocol/errors.js'

const RETRIABLE = 1
const INVALID_METADATA = 2

// [code, exception class, flags] — the class hierarchy of Kafka 3.9's clients.
const TABLE: [number, string, number][] = [
  [-1, 'UnknownServerException', 0],
  [1, 'OffsetOutOfRangeException', 0],
  [2, 'CorruptRecordException', 1],
  [3, 'UnknownTopicOrPartitionException', 3],
  [4, 'InvalidFetchSizeException', 0],
  [5, 'LeaderNotAvailableException', 3],
  [6, 'NotLeaderOrFollowerException', 3],
  [7, 'TimeoutException', 1],
  [8, 'BrokerNotAvailableException', 0],
  [9, 'ReplicaNotAvailableException', 3],
  [10, 'RecordTooLargeException', 0],
  [11, 'ControllerMovedException', 0],
  [12, 'OffsetMetadataTooLarge', 0],
  [13, 'NetworkException', 3],
  [14, 'CoordinatorLoadInProgressException', 1],
  [15, 'CoordinatorNotAvailableException', 1],
  [16, 'NotCoordinatorException', 1],
  [17, 'InvalidTopicException', 0],
  [18, 'RecordBatchTooLargeException', 0],
  [19, 'NotEnoughReplicasException', 1],
  [20, 'NotEnoughReplicasAfterAppendException', 1],
  [21, 'InvalidRequiredAcksException', 0],
  [22, 'IllegalGenerationException', 0],
  [23, 'InconsistentGroupProtocolException', 0],
  [24, 'InvalidGroupIdException', 0],
  [25, 'UnknownMemberIdException', 0],
  [26, 'InvalidSessionTimeoutException', 0],
  [27, 'RebalanceInProgressException', 0],
  [28, 'InvalidCommitOffsetSizeException', 0],
  [29, 'TopicAuthorizationException', 0],
  [30, 'GroupAuthorizationException', 0],
  [31, 'ClusterAuthorizationException', 0],
  [32, 'InvalidTimestampException', 0],
  [33, 'UnsupportedSaslMechanismException', 0],
  [34, 'IllegalSaslStateException', 0],
  [35, 'UnsupportedVersionException', 0],
  [36, 'TopicExistsException', 0],
  [37, 'InvalidPartitionsException', 0],
  [38, 'InvalidReplicationFactorException', 0],
  [39, 'InvalidReplicaAssignmentException', 0],
  [40, 'InvalidConfigurationException', 0],
  [41, 'NotControllerException', 1],
  [42, 'InvalidRequestException', 0],
  [43, 'UnsupportedForMessageFormatException', 0],
  [44, 'PolicyViolationException', 0],
  [45, 'OutOfOrderSequenceException', 0],
  [46, 'DuplicateSequenceException', 0],
  [47, 'InvalidProducerEpochException', 0],
  [48, 'InvalidTxnStateException', 0],
  [49, 'InvalidPidMappingException', 0],
  [50, 'InvalidTxnTimeoutException', 0],
  [51, 'ConcurrentTransactionsException', 1],
  [52, 'TransactionCoordinatorFencedException', 0],
  [53, 'TransactionalIdAuthorizationException', 0],
  [54, 'SecurityDisabledException', 0],
  [55, 'OperationNotAttemptedException', 0],
  [56, 'KafkaStorageException', 3],
  [57, 'LogDirNotFoundException', 0],
  [58, 'SaslAuthenticationException', 0],
  [59, 'UnknownProducerIdException', 0],
  [60, 'ReassignmentInProgressException', 0],
  [61, 'DelegationTokenDisabledException', 0],
  [62, 'DelegationTokenNotFoundException', 0],
  [63, 'DelegationTokenOwnerMismatchException', 0],
  [64, 'UnsupportedByAuthenticationException', 0],
  [65, 'DelegationTokenAuthorizationException', 0],
  [66, 'DelegationTokenExpiredException', 0],
  [67, 'InvalidPrincipalTypeException', 0],
  [68, 'GroupNotEmptyException', 0],
  [69, 'GroupIdNotFoundException', 0],
  [70, 'FetchSessionIdNotFoundException', 1],
  [71, 'InvalidFetchSessionEpochException', 1],
  [72, 'ListenerNotFoundException', 3],
  [73, 'TopicDeletionDisabledException', 0],
  [74, 'FencedLeaderEpochException', 3],
  [75, 'UnknownLeaderEpochException', 1],
  [76, 'UnsupportedCompressionTypeException', 0],
  [77, 'StaleBrokerEpochException', 0],
  [78, 'OffsetNotAvailableException', 1],
  [79, 'MemberIdRequiredException', 0],
  [80, 'PreferredLeaderNotAvailableException', 3],
  [81, 'GroupMaxSizeReachedException', 0],
  [82, 'FencedInstanceIdException', 0],
  [83, 'EligibleLeadersNotAvailableException', 3],
  [84, 'ElectionNotNeededException', 3],
  [85, 'NoReassignmentInProgressException', 0],
  [86, 'GroupSubscribedToTopicException', 0],
  [87, 'InvalidRecordException', 0],
  [88, 'UnstableOffsetCommitException', 1],
  [89, 'ThrottlingQuotaExceededException', 1],
  [90, 'ProducerFencedException', 0],
  [91, 'ResourceNotFoundException', 0],
  [92, 'DuplicateResourceException', 0],
  [93, 'UnacceptableCredentialException', 0],
  [94, 'InconsistentVoterSetException', 0],
  [95, 'InvalidUpdateVersionException', 0],
  [96, 'FeatureUpdateFailedException', 0],
  [97, 'PrincipalDeserializationException', 0],
  [98, 'SnapshotNotFoundException', 0],
  [100, 'UnknownTopicIdException', 3],
  [101, 'DuplicateBrokerRegistrationException', 0],
  [102, 'BrokerIdNotRegisteredException', 0],
  [103, 'InconsistentTopicIdException', 3],
  [104, 'InconsistentClusterIdException', 0],
  [105, 'TransactionalIdNotFoundException', 0],
  [106, 'FetchSessionTopicIdException', 1],
  [107, 'IneligibleReplicaException', 0],
  [108, 'NewLeaderElectedException', 0],
  [109, 'OffsetMovedToTieredStorageException', 0],
  [110, 'FencedMemberEpochException', 0],
  [111, 'UnreleasedInstanceIdException', 0],
  [112, 'UnsupportedAssignorException', 0],
  [113, 'StaleMemberEpochException', 0],
  [114, 'MismatchedEndpointTypeException', 0],
  [115, 'UnsupportedEndpointTypeException', 0],
  [116, 'UnknownControllerIdException', 0],
  [117, 'UnknownSubscriptionIdException', 0],
  [118, 'TelemetryTooLargeException', 0],
  [119, 'InvalidRegistrationException', 0],
  [120, 'TransactionAbortableException', 0],
  [121, 'InvalidRecordStateException', 0],
  [122, 'ShareSessionNotFoundException', 1],
  [123, 'InvalidShareSessionEpochException', 1],
  [124, 'FencedStateEpochException', 0],
  [125, 'InvalidVoterKeyException', 0],
  [126, 'DuplicateVoterException', 0],
  [127, 'VoterNotFoundException', 0],
]

const byCode = new Map<number, {cls: string; flags: number}>(TABLE.map(([code, cls, flags]) => [code, {cls, flags}]))

const PACKAGE = 'org.apache.kafka.common.errors.'
/** The classes Java's clients raise that live outside org.apache.kafka.common.errors. */
const OTHER_PACKAGES: Record<string, string> = {
  KafkaException: 'org.apache.kafka.common.',
  InvalidRecordException: 'org.apache.kafka.common.',
  IllegalStateException: 'java.lang.',
  IllegalArgumentException: 'java.lang.',
}

/**
 * An error the client reports: a Java exception class name (simple name) and its message.
 * toString() is Java's Throwable.toString(): "<fully qualified class>: <message>".
 */
export class KafkaClientError extends Error {
  constructor(readonly exceptionClass: string, message: string, readonly code = -1, readonly retriable = false) {
    super(message)
    this.name = exceptionClass
  }

  get qualifiedClass(): string {
    return this.exceptionClass.includes('.') ? this.exceptionClass : (OTHER_PACKAGES[this.exceptionClass] ?? PACKAGE) + this.exceptionClass
  }

  toString(): string {
    return this.message ? `${this.qualifiedClass}: ${this.message}` : this.qualifiedClass
  }
}

/** The client ran out of time (delivery.timeout.ms, max.block.ms, default.api.timeout.ms). */
export function timeoutError(message: string): KafkaClientError {
  return new KafkaClientError('TimeoutException', message, 7, true)
}

/** The exception Java raises for an error code, with the broker's message or the default one. */
export function apiError(code: number, message?: string | null): KafkaClientError {
  const e = byCode.get(code)
  return new KafkaClientError(e?.cls ?? 'UnknownServerException', message || errorMessage(code), code, e ? (e.flags & RETRIABLE) !== 0 : false)
}

/** True for codes whose Java exception is a RetriableException. */
export function isRetriable(code: number): boolean {
  return ((byCode.get(code)?.flags ?? 0) & RETRIABLE) !== 0
}

/** True for codes whose Java exception is an InvalidMetadataException (refresh metadata). */
export function isInvalidMetadata(code: number): boolean {
  return ((byCode.get(code)?.flags ?? 0) & INVALID_METADATA) !== 0
}

/** Java's exception class for a code (simple name). */
export function exceptionClass(code: number): string {
  return byCode.get(code)?.cls ?? 'UnknownServerException'
}

export {errorName}
