using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CodeFormer.Engine.Tests.Models;

/// <summary>
/// A real HTTP server on 127.0.0.1 that serves one byte array, honouring "Range: bytes=N-" requests,
/// so download and resume are tested over the wire without any network.
/// </summary>
internal sealed class LocalModelServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly byte[] _content;
    private readonly Task _loop;
    private readonly ManualResetEventSlim _stopping = new();

    public LocalModelServer(byte[] content, Action<string>? log = null)
    {
        _content = content;
        Log = log;
        (_listener, BaseUri) = Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUri { get; }

    public Uri ModelUri => new(BaseUri, "models/model.bin");

    /// <summary>The Range header of each request received ("" when none).</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Answer 200 with the whole body even to Range requests, as some servers do.</summary>
    public bool IgnoreRange { get; set; }

    /// <summary>When set, this byte offset is served flipped (a corrupt transfer).</summary>
    public long? CorruptAt { get; set; }

    /// <summary>When set, only this many body bytes are sent and then the connection goes silent until disposal.</summary>
    public int? StallAfterBytes { get; set; }

    public Action<string>? Log { get; }

    private static (HttpListener, Uri) Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var uri = new Uri($"http://127.0.0.1:{port}/");
            var listener = new HttpListener { Prefixes = { uri.ToString() } };
            try
            {
                listener.Start();
                return (listener, uri);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                // The free port was taken in between: try another.
            }
        }
    }

    private async Task ServeAsync()
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
                Answer(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // The client went away (a cancelled download): nothing to answer.
            }
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var range = context.Request.Headers["Range"] ?? "";
        Requests.Enqueue(range);
        Log?.Invoke("request " + range);
        var response = context.Response;
        if (context.Request.Url?.AbsolutePath != ModelUri.AbsolutePath)
        {
            response.StatusCode = 404;
            response.Close();
            return;
        }
        long from = 0;
        if (!IgnoreRange && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            from = long.Parse(range["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
            if (from >= _content.Length)
            {
                response.StatusCode = 416;
                response.Headers["Content-Range"] = $"bytes */{_content.Length}";
                response.Close();
                return;
            }
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {from}-{_content.Length - 1}/{_content.Length}";
        }
        var body = _content[(int)from..];
        if (CorruptAt is { } corrupt && corrupt >= from)
        {
            body = (byte[])body.Clone();
            body[corrupt - from] ^= 0xFF;
        }
        response.ContentLength64 = body.Length;
        if (StallAfterBytes is { } stall && stall < body.Length)
        {
            response.OutputStream.Write(body, 0, stall);
            response.OutputStream.Flush();
            _stopping.Wait();
            response.Abort();
            return;
        }
        response.OutputStream.Write(body);
        response.Close();
    }

    public void Dispose()
    {
        _stopping.Set();
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stopping.Dispose();
    }
}
