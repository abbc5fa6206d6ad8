// Event Grid custom topic on which the apps publish job lifecycle events (accepted, completed, failed)
// for whoever wants to react (a web front end, a notification function). Local (access key) auth is
// off: publishers use their managed identity with the EventGrid Data Sender role.

@description('Azure region of the topic.')
param location string

@description('Tags applied to the topic (carries azd-env-name).')
param tags object

@description('Event Grid topic name.')
param topicName string

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: topicName
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

output topicName string = topic.name
output topicEndpoint string = topic.properties.endpoint
