// BertPasses
