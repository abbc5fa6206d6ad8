using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Weights;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Cli.Commands;

/// <summary>
/// Turns expected failures (bad input, bad weights, missing files) into one clear line on stderr and a
/// non-zero exit code, instead of a stack trace. Unexpected exceptions still surface in full.
/// </summary>
internal static class CommandErrors
{
    public const int Failure = 1;

    public static int Run(Func<int> action, TextWriter? error = null)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (IsUserFacing(ex))
        {
            (error ?? Console.Error).WriteLine($"error: {ex.Message}");
            return Failure;
        }
    }

    public static async Task<int> RunAsync(Func<Task<int>> action, TextWriter? error = null)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException)
        {
            (error ?? Console.Error).WriteLine("cancelled");
            return 130;
        }
        catch (Exception ex) when (IsUserFacing(ex))
        {
            (error ?? Console.Error).WriteLine($"error: {ex.Message}");
            return Failure;
        }
    }

    /// <summary>Failures whose message is written for the user; everything else is a bug and keeps its trace.</summary>
    public static bool IsUserFacing(Exception ex) => ex is ArgumentException or IOException or UnauthorizedAccessException
        or InvalidDataException or NotSupportedException or InvalidOperationException
        or InvalidWeightsException or CheckpointFormatException or ImageRejectedException
        or ModelUnavailableException or ModelIntegrityException or OnnxRuntimeException or RestorationException;
}
