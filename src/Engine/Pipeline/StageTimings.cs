using System.Diagnostics;

namespace CodeFormer.Engine.Pipeline;

/// <summary>Wall-clock milliseconds spent in each stage of one photo.</summary>
public sealed class StageTimings
{
    private readonly Dictionary<RestorationStage, double> _milliseconds = [];

    public IReadOnlyDictionary<RestorationStage, double> Milliseconds => _milliseconds;

    public double Total => _milliseconds.Values.Sum();

    /// <summary>Everything except the network itself: what the pipeline adds around CodeFormer.</summary>
    public double OutsideNetwork => Total - _milliseconds.GetValueOrDefault(RestorationStage.Restore);

    public T Measure<T>(RestorationStage stage, Func<T> work)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return work();
        }
        finally
        {
            Add(stage, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    public void Measure(RestorationStage stage, Action work) => Measure(stage, () =>
    {
        work();
        return 0;
    });

    public void Add(RestorationStage stage, double milliseconds)
        => _milliseconds[stage] = _milliseconds.GetValueOrDefault(stage) + milliseconds;
}
