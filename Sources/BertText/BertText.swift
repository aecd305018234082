// BertText
