// Log Analytics + workspace-based Application Insights. Local (instrumentation-key) auth is disabled on
// Application Insights, so telemetry is accepted only with an Entra token: the apps send it with their
// managed identity (Monitoring Metrics Publisher, see role-assignments.bicep) and
// APPLICATIONINSIGHTS_AUTHENTICATION_STRING. The connection string then carries no usable secret;
// still, it is not passed around as an output: the app modules read it from the component by name.

@description('Azure region of the workspace and the component.')
param location string

@description('Tags applied to every resource (carries azd-env-name).')
param tags object

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param applicationInsightsName string

@description('Daily ingestion cap in GB for the workspace; bounds the only monitoring cost that grows with traffic. -1 means no cap.')
param dailyQuotaGb int

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
    workspaceCapping: {
      dailyQuotaGb: dailyQuotaGb
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

output logAnalyticsName string = logAnalytics.name
output applicationInsightsName string = applicationInsights.name
