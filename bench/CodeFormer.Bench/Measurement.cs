using System.Diagnostics;

namespace CodeFormer.Bench;

/// <summary>Runs an action a number of times after warm-up and reports the median and spread.</summary>
internal static class Measurement
{
    public static Sample Time(int warmup, int iterations, Action action)
    {
        for (int i = 0; i < warmup; i++)
        {
            action();
        }
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return new Sample(times[iterations / 2], times[0], times[^1], iterations);
    }
}

internal sealed record Sample(double MedianMs, double MinMs, double MaxMs, int Iterations);
