// BertTraining
