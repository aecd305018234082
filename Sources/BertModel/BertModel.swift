// BertModel
