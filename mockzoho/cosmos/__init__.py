"""Azure Cosmos DB (DocumentDB SQL API): databases, collections, documents, attachments and media."""
