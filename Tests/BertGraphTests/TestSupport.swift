// The fixtures this target shares with the other test targets (everyOpGraph, randomGraph,
// TinyBert), visible in every file of the target.
@_exported import BertTestSupport
