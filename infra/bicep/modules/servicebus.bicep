// Service Bus: the job queue between the Function app (sender) and the GPU worker (receiver).
// Standard tier because duplicate detection (at-most-once enqueue of a job whose MessageId is the job
// id, even when Event Grid delivers the BlobCreated event twice) does not exist in Basic.

@description('Azure region of the namespace.')
param location string

@description('Tags applied to the namespace (carries azd-env-name).')
param tags object

@description('Service Bus namespace name.')
param namespaceName string

@description('Queue the Function app puts restore jobs on.')
param queueName string

@description('How long a received job stays locked to one worker. PT5M is the Service Bus maximum; a job that runs longer must renew its lock.')
param lockDuration string = 'PT5M'

@description('Deliveries before a job is moved to the dead-letter queue (a photo that crashes the worker every time must not loop forever).')
@minValue(1)
param maxDeliveryCount int = 5

@description('Window in which a second message with the same MessageId (job id) is dropped.')
param duplicateDetectionWindow string = 'PT10M'

@description('A job not started within this time is stale and is dead-lettered instead of processed.')
param messageTimeToLive string = 'P1D'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    lockDuration: lockDuration
    maxDeliveryCount: maxDeliveryCount
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: duplicateDetectionWindow
    defaultMessageTimeToLive: messageTimeToLive
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

output namespaceName string = namespace.name
// serviceBusEndpoint is 'https://<name>.servicebus.windows.net:443/'; taken from the resource, not
// written out, so sovereign clouds get their own suffix.
output fullyQualifiedNamespace string = split(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':')[0]
output queueName string = queue.name
