// The Event Grid subscription BlobCreated under uploads/ → the Function app's blob-trigger webhook.
// Not part of main.bicep: its URL carries the Functions host's `blobs_extension` system key, which
// exists only after the code is deployed and the host started, i.e. after `azd provision`. The azd
// postdeploy hook (infra/hooks/postdeploy.sh|ps1) reads the key and deploys this file into the
// environment's resource group once both services run (the reasons are in uploads-system-topic.bicep).
//
// The webhook URL (with the key in its query string) is a @secure() parameter, so ARM keeps it out of
// the deployment history; the hook builds it.

@description('Name of the storage account\'s Event Grid system topic (main.bicep output AZURE_EVENTGRID_UPLOADS_SYSTEM_TOPIC_NAME).')
param systemTopicName string

@description('https://<app host>/runtime/webhooks/blobs?functionName=Host.Functions.<blob trigger>&code=<blobs_extension key>')
@secure()
param webhookEndpointUrl string

@description('Container the user uploads photos into.')
param uploadsContainerName string

@description('Storage account holding the dead-letter container (main.bicep output AZURE_STORAGE_ACCOUNT_NAME).')
param storageAccountName string

@description('Container undeliverable events are dead-lettered into (main.bicep output AZURE_STORAGE_DEADLETTER_CONTAINER).')
param deadLetterContainerName string

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes Event Grid keeps retrying an event before it is dead-lettered (the service maximum is 1440).')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource uploadsBlobCreated 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'uploads-blob-created'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: webhookEndpointUrl
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${uploadsContainerName}/'
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    // An upload whose event cannot be delivered (the Function app down for a day, a broken key) is
    // written as a blob into the dead-letter container instead of being dropped, and an alert fires
    // (monitoring.bicep). Written with the system topic's own identity: the account has shared-key
    // access off, and that identity holds Storage Blob Data Contributor on that container only.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storageAccount.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output eventSubscriptionName string = uploadsBlobCreated.name
