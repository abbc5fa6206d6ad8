// Every data-plane permission in the deployment, in one place so least privilege can be reviewed at a
// glance. Each assignment names its built-in role (by its fixed GUID), its scope, and why the
// identity needs it. Scopes are as narrow as the resource model allows: a queue, a topic, a container
// or a table rather than the namespace or the account. The only account-wide storage roles are on the
// Functions host's own account, which holds no user data; on the data account nothing but the
// account-level Blob Delegator (user-delegation keys exist only per account) is granted account-wide.
// tests/CodeFormer.Infra.Tests/SecurityTemplateTests.cs lists every assignment and fails on any change.

@description('Name of the Function app\'s identity.')
param functionsIdentityName string

@description('Name of the GPU worker\'s identity.')
param workerIdentityName string

@description('Name of the Event Grid system topic on the data account (its system-assigned identity writes dead-lettered events).')
param uploadsSystemTopicName string

@description('Object id of the user running azd; empty to grant nothing to a user.')
param principalId string

@description('Principal type of principalId (User for `azd up` from a terminal, ServicePrincipal in a pipeline).')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string

param hostStorageAccountName string
param storageAccountName string
param uploadsContainerName string
param resultsContainerName string
param modelsContainerName string
param deadLetterContainerName string
param blobTriggerPoisonQueueName string
param webhookNoticeQueueName string
param webhookNoticePoisonQueueName string
param jobsTableName string
param serviceBusNamespaceName string
param queueName string
param jobEventsTopicName string
param registryName string
param applicationInsightsName string

// Built-in role definition ids (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageQueueDataReader: '19e7f393-937e-4f77-808e-94535e297925'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// An ABAC condition (role-assignment condition, version 2.0) that takes blob deletion out of a write role.
// Neither app ever deletes a user's upload or result (uploads are tagged when rejected, results are
// written once with If-None-Match: *); only the lifecycle policy deletes them. Built-in roles cannot
// express "write and tag but not delete", and a custom role definition would need the deployer to hold
// roleDefinitions/write (Owner or User Access Administrator) and would outlive `azd down`.
var noBlobDeleteCondition = '((!(ActionMatches{\'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete\'})))'

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: functionsIdentityName
}

resource workerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: workerIdentityName
}

resource hostStorageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: hostStorageAccountName
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource uploads 'containers' existing = {
      name: uploadsContainerName
    }

    resource results 'containers' existing = {
      name: resultsContainerName
    }

    resource models 'containers' existing = {
      name: modelsContainerName
    }

    resource deadLetter 'containers' existing = {
      name: deadLetterContainerName
    }
  }

  resource queueService 'queueServices' existing = {
    name: 'default'

    resource blobTriggerPoison 'queues' existing = {
      name: blobTriggerPoisonQueueName
    }

    resource webhookNotices 'queues' existing = {
      name: webhookNoticeQueueName
    }

    resource webhookNoticesPoison 'queues' existing = {
      name: webhookNoticePoisonQueueName
    }
  }

  resource tableService 'tableServices' existing = {
    name: 'default'

    resource jobs 'tables' existing = {
      name: jobsTableName
    }
  }
}

resource serviceBus 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName

  resource queue 'queues' existing = {
    name: queueName
  }
}

resource uploadsSystemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: uploadsSystemTopicName
}

resource jobEventsTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: jobEventsTopicName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// ---------------------------------------------------------------------------------------------------
// Function app identity: the Functions host's own account
// ---------------------------------------------------------------------------------------------------

// Storage Blob Data Owner on the host account: the host keeps leases, keys and blob receipts in
// azure-webjobs-* containers it creates itself, and Flex Consumption reads the deployment package. The
// identity-based AzureWebJobsStorage connection is documented to need Owner. This account holds no user
// data, so account scope widens nothing that matters.
resource functionsHostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorageAccount.id, functionsIdentity.id, roles.storageBlobDataOwner)
  scope: hostStorageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor on the host account: the blob trigger's dispatch queue
// (azure-webjobs-blobtrigger-<host id>), created by the host.
resource functionsHostQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorageAccount.id, functionsIdentity.id, roles.storageQueueDataContributor)
  scope: hostStorageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor on the host account: the host writes its diagnostic events to tables it
// creates there (AzureWebJobsStorage with an identity needs it, or the host logs errors).
resource functionsHostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorageAccount.id, functionsIdentity.id, roles.storageTableDataContributor)
  scope: hostStorageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------
// Function app identity: the data account, only what ingest needs
// ---------------------------------------------------------------------------------------------------

// Storage Blob Data Owner on uploads/ only, with blob deletion taken out by a condition. The blob trigger
// reads the photo, its properties and metadata; the app tags rejected uploads (blob index tags need Owner:
// Contributor has no tags/write); and the user-delegation SAS it issues for uploading ONE blob works only
// where the delegating identity may write itself. Nothing else of the account.
resource functionsUploadsIngest 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::uploads.id, functionsIdentity.id, roles.storageBlobDataOwner)
  scope: storageAccount::blobService::uploads
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    condition: noBlobDeleteCondition
    conditionVersion: '2.0'
  }
}

// Storage Blob Data Reader on results/: the read-one-result user-delegation SAS the app issues is only as
// strong as the delegating identity's own read permission.
resource functionsResultsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::results.id, functionsIdentity.id, roles.storageBlobDataReader)
  scope: storageAccount::blobService::results
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Blob Delegator on the data account: requests the user-delegation key that signs those SAS. It
// grants no data access by itself, and the key exists only per account, so this is the one account-wide
// role on the data account.
resource functionsBlobDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, functionsIdentity.id, roles.storageBlobDelegator)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDelegator)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Table Data Contributor on the jobs table only: job, tenant, usage and idempotency rows.
resource functionsJobsTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::tableService::jobs.id, functionsIdentity.id, roles.storageTableDataContributor)
  scope: storageAccount::tableService::jobs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor on the blob trigger's poison queue only: the blob extension writes an
// upload it failed on five times into webjobs-blobtrigger-poison in the account of the triggering blob.
resource functionsPoisonQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::queueService::blobTriggerPoison.id, functionsIdentity.id, roles.storageQueueDataContributor)
  scope: storageAccount::queueService::blobTriggerPoison
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Queue Data Contributor on the webhook-notice queue and its poison queue only: the app sends notices of
// cancelled and expired jobs there, and its queue trigger reads, deletes and (after five failures) moves them.
resource functionsWebhookNoticeQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::queueService::webhookNotices.id, functionsIdentity.id, roles.storageQueueDataContributor)
  scope: storageAccount::queueService::webhookNotices
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource functionsWebhookNoticePoisonQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::queueService::webhookNoticesPoison.id, functionsIdentity.id, roles.storageQueueDataContributor)
  scope: storageAccount::queueService::webhookNoticesPoison
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------
// Function app identity: messaging and telemetry
// ---------------------------------------------------------------------------------------------------

// Azure Service Bus Data Sender on the restore queue only: the app enqueues jobs, never receives.
resource functionsQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus::queue.id, functionsIdentity.id, roles.serviceBusDataSender)
  scope: serviceBus::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// EventGrid Data Sender on the job-events topic only: the app publishes "accepted" and "rejected".
resource functionsEventsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(jobEventsTopic.id, functionsIdentity.id, roles.eventGridDataSender)
  scope: jobEventsTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Monitoring Metrics Publisher on the Application Insights component: with local auth disabled, this
// is what lets the app's telemetry in.
resource functionsTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, functionsIdentity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: functionsIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------
// GPU worker identity
// ---------------------------------------------------------------------------------------------------

// AcrPull on the registry: the container app pulls the worker image with its identity (no admin user).
resource workerAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, workerIdentity.id, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Azure Service Bus Data Owner on the restore queue only. The worker itself needs only receive,
// complete and dead-letter (Data Receiver), but the KEDA azure-servicebus scaler, which authenticates
// with this same identity, reads the queue's message count through the management endpoint, and that
// needs the Manage right, which no narrower built-in role grants. A second identity just for the
// scaler would not shrink the blast radius: any identity attached to the app can be used from inside
// the container. Scoping Owner to the one queue keeps it away from every other entity.
resource workerQueueOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(serviceBus::queue.id, workerIdentity.id, roles.serviceBusDataOwner)
  scope: serviceBus::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Blob Data Reader on uploads/: the worker reads the photo; it never changes what the user sent.
resource workerUploadsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::uploads.id, workerIdentity.id, roles.storageBlobDataReader)
  scope: storageAccount::blobService::uploads
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Blob Data Reader on models/: the worker downloads the model files at start-up.
resource workerModelsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::models.id, workerIdentity.id, roles.storageBlobDataReader)
  scope: storageAccount::blobService::models
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Storage Blob Data Contributor on results/, without deletion: the worker creates the result (with
// If-None-Match: *, so a retried job never overwrites one) and reads it back to check it.
resource workerResultsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::results.id, workerIdentity.id, roles.storageBlobDataContributor)
  scope: storageAccount::blobService::results
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
    condition: noBlobDeleteCondition
    conditionVersion: '2.0'
  }
}

// Storage Table Data Contributor on the jobs table only: the worker records running/succeeded/failed.
resource workerJobsTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::tableService::jobs.id, workerIdentity.id, roles.storageTableDataContributor)
  scope: storageAccount::tableService::jobs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// EventGrid Data Sender on the job-events topic only: the worker publishes "completed" and "failed".
resource workerEventsSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(jobEventsTopic.id, workerIdentity.id, roles.eventGridDataSender)
  scope: jobEventsTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Monitoring Metrics Publisher on the Application Insights component: the worker's Azure Monitor exporter
// authenticates with this identity (ManagedIdentityCredential with AZURE_CLIENT_ID).
resource workerTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, workerIdentity.id, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: workerIdentity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------
// Event Grid system topic identity
// ---------------------------------------------------------------------------------------------------

// Storage Blob Data Contributor on events-deadletter/ only: Event Grid writes BlobCreated events it could
// not deliver there with the system topic's own identity (the account accepts no shared key).
resource systemTopicDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount::blobService::deadLetter.id, uploadsSystemTopic.id, roles.storageBlobDataContributor)
  scope: storageAccount::blobService::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: uploadsSystemTopic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------------
// The person (or pipeline) running azd: only what docs/deployment.md asks them to do with their own
// Entra login, since shared-key access is off. Skipped when no principal id is given.
// ---------------------------------------------------------------------------------------------------

// Storage Blob Data Contributor on uploads/: send a photo (`az storage blob upload --auth-mode login`).
resource userUploadsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storageAccount::blobService::uploads.id, principalId, roles.storageBlobDataContributor)
  scope: storageAccount::blobService::uploads
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

// Storage Blob Data Contributor on models/: upload the model files the worker loads.
resource userModelsWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storageAccount::blobService::models.id, principalId, roles.storageBlobDataContributor)
  scope: storageAccount::blobService::models
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: principalType
  }
}

// Storage Blob Data Reader on results/: download the restored photo.
resource userResultsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storageAccount::blobService::results.id, principalId, roles.storageBlobDataReader)
  scope: storageAccount::blobService::results
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: principalId
    principalType: principalType
  }
}

// Storage Table Data Reader on the jobs table: the first troubleshooting step reads a job's state and error.
resource userJobsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storageAccount::tableService::jobs.id, principalId, roles.storageTableDataReader)
  scope: storageAccount::tableService::jobs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: principalId
    principalType: principalType
  }
}

// Storage Queue Data Reader on the blob trigger's poison queue: troubleshooting peeks at uploads the
// Function app gave up on.
resource userPoisonQueueReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storageAccount::queueService::blobTriggerPoison.id, principalId, roles.storageQueueDataReader)
  scope: storageAccount::queueService::blobTriggerPoison
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataReader)
    principalId: principalId
    principalType: principalType
  }
}

// Storage Blob Data Reader on events-deadletter/: troubleshooting reads BlobCreated events Event Grid
// could not deliver.
resource userDeadLetterReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storageAccount::blobService::deadLetter.id, principalId, roles.storageBlobDataReader)
  scope: storageAccount::blobService::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: principalId
    principalType: principalType
  }
}

// Azure Service Bus Data Receiver on the restore queue: dead-lettered jobs stay in
// restore-jobs/$deadletterqueue until someone removes them (Service Bus never expires them there);
// this lets the deployer read and purge them (portal Service Bus Explorer), which is what makes the
// retention stated in docs/deployment.md achievable.
resource userQueueReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(serviceBus::queue.id, principalId, roles.serviceBusDataReceiver)
  scope: serviceBus::queue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: principalId
    principalType: principalType
  }
}
