// Container registry for the GPU worker image. Admin user off: the container app pulls with its
// managed identity (AcrPull) and azd pushes with the deploying user's Entra token, so no registry
// password exists anywhere.

@description('Azure region of the registry.')
param location string

@description('Tags applied to the registry (carries azd-env-name).')
param tags object

@description('Registry name (5-50 letters and digits).')
@minLength(5)
@maxLength(50)
param registryName string

@description('Registry tier. Basic holds one small image set at the lowest daily fee.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param sku string = 'Basic'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

output registryName string = registry.name
output loginServer string = registry.properties.loginServer
