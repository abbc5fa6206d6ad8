// The Function app that turns an uploaded photo into a queued job: Flex Consumption (Linux, per-
// execution billing, scales to zero; it also requires the Event Grid source for blob triggers, which
// is why the uploads container is watched through Event Grid instead of polling).
// Every connection is identity-based: the host storage (AzureWebJobsStorage__*, its own account), the
// data account (Storage__*), Service Bus, Event Grid and Application Insights all authenticate as the
// user-assigned identity; no setting holds a key or a connection string with a key.

@description('Azure region of the plan and the app.')
param location string

@description('Tags applied to the plan and the app (carries azd-env-name; the app adds azd-service-name).')
param tags object

@description('Flex Consumption plan name.')
param planName string

@description('Function app name.')
param appName string

@description('Name of the user-assigned identity the app runs as.')
param identityName string

@description('The Functions host\'s own storage account (AzureWebJobsStorage and the deployment package).')
param hostStorageAccountName string

@description('Blob endpoint of the host storage account.')
param hostBlobEndpoint string

@description('Container of the host storage account Flex Consumption deploys the app package from.')
param deploymentContainerName string

@description('Blob endpoint of the data account (uploads, results).')
param blobEndpoint string

@description('Table endpoint of the data account (the jobs table).')
param tableEndpoint string

@description('Queue endpoint of the data account (the blob extension writes its poison queue in the account of the triggering blob).')
param queueEndpoint string

@description('Container the user uploads photos into.')
param uploadsContainerName string

@description('Container the worker writes results into.')
param resultsContainerName string

@description('Table holding the jobs.')
param jobsTableName string

@description('Fully qualified Service Bus namespace the app sends jobs to.')
param serviceBusFullyQualifiedNamespace string

@description('Queue the app sends jobs to.')
param queueName string

@description('Endpoint of the Event Grid topic for job events.')
param jobEventsTopicEndpoint string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('.NET isolated worker runtime version.')
param runtimeVersion string

@description('Upper bound of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB (Flex Consumption sizes: 512, 2048, 4096).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // Host storage through the identity (no AccountKey), in its own account: the host derives the
        // blob/queue/table URIs from the account name.
        { name: 'AzureWebJobsStorage__accountName', value: hostStorageAccountName }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
        // DefaultAzureCredential in the app's own SDK clients picks the user-assigned identity by this.
        { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsights.properties.ConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
        { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusFullyQualifiedNamespace }
        { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
        { name: 'ServiceBusConnection__clientId', value: identity.properties.clientId }
        // "Storage": the data account, the blob trigger's connection (Connection = "Storage") and the
        // app's own blob/table clients.
        { name: 'Storage__blobServiceUri', value: blobEndpoint }
        { name: 'Storage__queueServiceUri', value: queueEndpoint }
        { name: 'Storage__tableServiceUri', value: tableEndpoint }
        { name: 'Storage__credential', value: 'managedidentity' }
        { name: 'Storage__clientId', value: identity.properties.clientId }
        { name: 'Jobs__queueName', value: queueName }
        { name: 'Jobs__tableName', value: jobsTableName }
        { name: 'Jobs__uploadsContainer', value: uploadsContainerName }
        { name: 'Jobs__resultsContainer', value: resultsContainerName }
        // The overdue-upload sweep (ExpireOverdueUploads): every 5 minutes it expires API jobs still awaiting their
        // photo 300 s after the upload URL expired. A flat name for the schedule: the host resolves %UploadSweepSchedule%
        // in the timer attribute from the app setting of that exact name.
        { name: 'UploadSweepSchedule', value: '0 */5 * * * *' }
        { name: 'Jobs__uploadGraceSeconds', value: '300' }
        { name: 'JobEvents__topicEndpoint', value: jobEventsTopicEndpoint }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: runtimeVersion
      }
    }
  }
}

// Publishing with a user name and password (FTP, SCM basic auth) is off: azd deploys with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output appName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
