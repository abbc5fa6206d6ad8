// Event Grid system topic over the storage account: the source of the BlobCreated events that start a
// job. Only the topic is declared here. Its subscription (BlobCreated under uploads/ → the Function
// app's blob-trigger webhook, infra/bicep/uploads-subscription.bicep) is deployed by the azd postdeploy
// hook infra/hooks/postdeploy.sh|ps1, because that webhook URL must carry the Functions host's
// `blobs_extension` system key:
//   * the key does not exist until the Function app's code (with its Event Grid blob trigger) has been
//     deployed and the host has started, and azd provisions (this template) before it deploys code;
//   * reading it in Bicep (listKeys on host/default) would therefore fail on the first `azd up`, and
//     would also put a secret into the deployment history;
//   * Event Grid validates a webhook subscription with a handshake when it is created, which only a
//     running host with the trigger can answer.
// The hook runs after both services are deployed, reads the key with `az functionapp keys list`, and
// creates or updates the subscription; it is idempotent, so every `azd deploy` refreshes it.
// The topic has a system-assigned identity: Event Grid dead-letters undeliverable events into the data
// account with it (that account accepts no shared key).

@description('Azure region of the system topic (the storage account\'s region).')
param location string

@description('Tags applied to the system topic (carries azd-env-name).')
param tags object

@description('System topic name.')
param systemTopicName string

@description('Name of the storage account whose blob events the topic carries.')
param storageAccountName string

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storageAccount.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output systemTopicName string = systemTopic.name
