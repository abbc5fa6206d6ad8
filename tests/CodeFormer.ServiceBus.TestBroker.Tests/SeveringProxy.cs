using System.Net;
using System.Net.Sockets;

namespace CodeFormer.ServiceBus.TestBroker.Tests;

/// <summary>
/// A loopback TCP relay in front of the broker that can cut every connection with a reset and refuse new
/// ones: what the broker sees when a receiver's process is killed (no AMQP detach, no close).
/// </summary>
internal sealed class SeveringProxy : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly int targetPort;
    readonly List<Socket> sockets = [];
    readonly CancellationTokenSource stopping = new();
    readonly Task acceptLoop;

    public SeveringProxy(int targetPort)
    {
        this.targetPort = targetPort;
        listener.Start();
        acceptLoop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Resets every relayed connection (RST, like a killed process) and stops accepting.</summary>
    public void Sever()
    {
        stopping.Cancel();
        listener.Stop();
        lock (sockets)
        {
            foreach (var socket in sockets)
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }

            sockets.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Sever();
        try
        {
            await acceptLoop;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        stopping.Dispose();
    }

    async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            var client = await listener.AcceptSocketAsync(stopping.Token);
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await server.ConnectAsync(IPAddress.Loopback, targetPort, stopping.Token);
            lock (sockets)
            {
                sockets.Add(client);
                sockets.Add(server);
            }

            _ = RelayAsync(client, server);
            _ = RelayAsync(server, client);
        }
    }

    static async Task RelayAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Severed.
        }
    }
}
