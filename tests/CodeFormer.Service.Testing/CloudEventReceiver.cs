using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Azure.Messaging;

namespace CodeFormer.Service.Testing;

/// <summary>
/// Stands in for the Event Grid topic: an HTTP listener on 127.0.0.1 that accepts what EventGridPublisherClient posts
/// (a JSON array of CloudEvents 1.0, <c>application/cloudevents-batch+json</c>), records every event and answers 200.
/// It can be told to fail, to test that an event-publishing outage makes the caller throw (and so retry).
/// </summary>
public sealed class CloudEventReceiver : IAsyncDisposable
{
    public const string AccessKey = "local-test-key";

    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<CloudEvent> _events = new();
    private readonly ConcurrentQueue<string> _keys = new();
    private readonly Task _loop;

    public CloudEventReceiver()
    {
        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/api/events");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The topic endpoint to give the publisher (JobEvents__topicEndpoint).</summary>
    public Uri Endpoint { get; }

    /// <summary>While true, every request is answered 503 (a topic outage).</summary>
    public bool Failing { get; set; }

    public IReadOnlyList<CloudEvent> Events => [.. _events];

    /// <summary>The aeg-sas-key header of each request (the publisher's access key).</summary>
    public IReadOnlyList<string> KeysSeen => [.. _keys];

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (Failing)
                {
                    context.Response.StatusCode = 503;
                }
                else
                {
                    _keys.Enqueue(context.Request.Headers["aeg-sas-key"] ?? "");
                    foreach (var cloudEvent in CloudEvent.ParseMany(BinaryData.FromBytes(body.ToArray()), skipValidation: false))
                    {
                        _events.Enqueue(cloudEvent);
                    }
                    context.Response.StatusCode = 200;
                }
            }
            catch (Exception)
            {
                context.Response.StatusCode = 400;
            }
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
