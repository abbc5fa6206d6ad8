// User-assigned managed identities: one per workload, so each gets only the roles its own code needs
// (see role-assignments.bicep). User-assigned rather than system-assigned because the roles, the KEDA
// scale rule and the registry pull must exist before the apps' first revision starts, and a
// user-assigned identity exists before the app that carries it.

@description('Azure region of the identities.')
param location string

@description('Tags applied to every identity (carries azd-env-name).')
param tags object

@description('Name of the identity the Function app runs as.')
param functionsIdentityName string

@description('Name of the identity the GPU worker container app runs as (and KEDA scales with).')
param workerIdentityName string

resource functionsIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: functionsIdentityName
  location: location
  tags: tags
}

resource workerIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: workerIdentityName
  location: location
  tags: tags
}

output functionsIdentityName string = functionsIdentity.name
output functionsIdentityClientId string = functionsIdentity.properties.clientId
output workerIdentityName string = workerIdentity.name
output workerIdentityClientId string = workerIdentity.properties.clientId
