// The data account: photos in (uploads), restored photos out (results), model files (models), Event Grid
// events that could not be delivered (events-deadletter), the blob trigger's poison queue, and the job
// table. Nothing of the Functions host lives here (its bookkeeping and deployment package are in the
// host account, functions-host-storage.bicep), so the identity behind the internet-facing webhook needs
// no account-wide role on the account that holds every user's photos.
// Keyless by construction: shared-key access is off, so every caller (apps, Event Grid, the user's
// `az storage blob upload --auth-mode login`) authenticates with Entra ID.

@description('Azure region of the account.')
param location string

@description('Tags applied to the account (carries azd-env-name).')
param tags object

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param storageAccountName string

@description('Container the user uploads photos into; its BlobCreated events start a job.')
param uploadsContainerName string

@description('Container the worker writes restored photos into.')
param resultsContainerName string

@description('Container the worker downloads its model files from at start-up.')
param modelsContainerName string

@description('Container Event Grid writes undeliverable BlobCreated events into.')
param deadLetterContainerName string

@description('Queue the blob trigger moves uploads it failed on five times into. Its name is fixed by the Functions blob extension (HostQueueNames.BlobTriggerPoisonQueue), which writes it in the account of the triggering blob.')
param blobTriggerPoisonQueueName string

@description('Queue the Functions app puts cancelled and expired jobs\' webhook notices on (its queue trigger DeliverTerminalWebhook reads them; the name is TerminalWebhookNotice.QueueName). ')
param webhookNoticeQueueName string

@description('The queue trigger\'s poison queue for webhook notices: the Functions queue extension moves a message it failed on five times into "<queue>-poison".')
param webhookNoticePoisonQueueName string

@description('Table holding one row per job (state, timings, result blob).')
param jobsTableName string

@description('Days after which uploads, results and dead-lettered events are deleted by the lifecycle policy.')
@minValue(1)
param retentionDays int

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      // Public endpoint with Entra-only auth: Event Grid, Flex Consumption and the GPU environment are
      // not in a virtual network here, and the user uploads from their own machine.
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    // Off on purpose: a deleted photo (by the lifecycle rule or by its owner) must be gone, not kept
    // recoverable for another retention period. Stated, not left to a default that the portal and the
    // API set differently.
    deleteRetentionPolicy: {
      enabled: false
    }
    containerDeleteRetentionPolicy: {
      enabled: false
    }
    isVersioningEnabled: false
  }
}

resource uploadsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: uploadsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource resultsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: resultsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource modelsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: modelsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
}

// Declared (rather than left to the host to create) so the Function app's queue role can be scoped to
// this one queue. Messages name the upload; Storage expires them after 7 days (the service default: the
// host sets no time-to-live), whatever retentionDays says (docs/deployment.md, "Where a photo can remain").
resource blobTriggerPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = {
  parent: queueService
  name: blobTriggerPoisonQueueName
}

// Webhook notices of cancelled and expired jobs: they name a job (tenant, id, state), never a URL. Declared with the
// queue trigger's poison queue so the Function app's queue role can be scoped to exactly these two.
resource webhookNoticeQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = {
  parent: queueService
  name: webhookNoticeQueueName
}

resource webhookNoticePoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2024-01-01' = {
  parent: queueService
  name: webhookNoticePoisonQueueName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2024-01-01' = {
  parent: storageAccount
  name: 'default'
}

resource jobsTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2024-01-01' = {
  parent: tableService
  name: jobsTableName
}

// Photos are personal data: keep them no longer than needed. Deleting by creation time (not last
// access) makes the retention promise independent of whether anyone looked at the result. Dead-lettered
// events name the upload, so they follow the same rule. Azure runs lifecycle policies about once a day,
// so a blob can outlive retentionDays by up to about a day.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2024-01-01' = {
  parent: storageAccount
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-photos-after-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${uploadsContainer.name}/'
                '${resultsContainer.name}/'
                '${deadLetterContainer.name}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: retentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

output storageAccountName string = storageAccount.name
output storageAccountId string = storageAccount.id
output blobEndpoint string = storageAccount.properties.primaryEndpoints.blob
output tableEndpoint string = storageAccount.properties.primaryEndpoints.table
output queueEndpoint string = storageAccount.properties.primaryEndpoints.queue
output uploadsContainerName string = uploadsContainer.name
output resultsContainerName string = resultsContainer.name
output modelsContainerName string = modelsContainer.name
output deadLetterContainerName string = deadLetterContainer.name
output blobTriggerPoisonQueueName string = blobTriggerPoisonQueue.name
output webhookNoticeQueueName string = webhookNoticeQueue.name
output webhookNoticePoisonQueueName string = webhookNoticePoisonQueue.name
output jobsTableName string = jobsTable.name
