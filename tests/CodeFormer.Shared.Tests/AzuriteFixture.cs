using CodeFormer.Service.Testing;

namespace CodeFormer.Shared.Tests;

/// <summary>One Azurite for the store tests; each test takes its own table so they do not see each other's rows.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    private AzuriteProcess? _azurite;

    public AzuriteProcess Azurite => _azurite ?? throw new InvalidOperationException("Azurite is not started.");

    public async Task InitializeAsync() => _azurite = await AzuriteProcess.StartAsync();

    public async Task DisposeAsync()
    {
        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    public async Task<Azure.Data.Tables.TableClient> NewTableAsync()
    {
        var table = Azurite.CreateTableServiceClient().GetTableClient("jobs" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateIfNotExistsAsync();
        return table;
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "Azurite";
}
