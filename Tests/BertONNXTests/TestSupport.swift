// The fixtures this target shares with the other test targets (TinyBert,
// EveryInferenceOpGraph), visible in every file of the target.
@_exported import BertTestSupport
