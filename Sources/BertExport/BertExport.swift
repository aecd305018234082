// BertExport
