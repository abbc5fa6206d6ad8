using System.Globalization;
using CodeFormer.Cli.Commands;
using CodeFormer.Engine.Video;
using Spectre.Console;

namespace CodeFormer.Cli.Output;

/// <summary>
/// Restores the videos of a <c>restore</c> run one after the other into <c>&lt;output&gt;/final_results/&lt;name&gt;.&lt;ext&gt;</c>,
/// with a progress bar showing frames, frames per second and the time left. A video that fails is reported and skipped.
/// </summary>
internal sealed class VideoRunner(VideoRestorer restorer, IAnsiConsole console, TextWriter log)
{
    public async Task<IReadOnlyList<PhotoOutcome>> RunAsync(IReadOnlyList<string> files, IReadOnlyList<string> names, string outputRoot, VideoOptions options, CancellationToken cancellationToken)
    {
        var outcomes = new List<PhotoOutcome>();
        for (int i = 0; i < files.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string target = Path.Combine(outputRoot, "final_results", names[i] + Path.GetExtension(files[i]).ToLowerInvariant());
            try
            {
                VideoResult? result = null;
                await console.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(async context =>
                    {
                        var task = context.AddTask(Path.GetFileName(files[i]), maxValue: 1);
                        var progress = new Progress<VideoProgress>(p =>
                        {
                            task.MaxValue = Math.Max(1, p.TotalFrames);
                            task.Value = p.Frame;
                            string eta = p.Remaining is { } left ? $"ETA {left:hh\\:mm\\:ss}" : "ETA –";
                            task.Description = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(files[i])} {p.Frame}/{p.TotalFrames} frames, {p.FramesPerSecond:F1} frames/s, {eta}");
                        });
                        result = await restorer.RestoreAsync(files[i], target, options, progress, cancellationToken);
                        task.Value = task.MaxValue;
                    });
                var done = result!;
                long withFaces = done.Faces.FramesWithFaces;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"video: {files[i]} → {done.OutputPath}: {done.Frames} frames ({withFaces} with faces) at {done.FramesPerSecond:F2} frames/s; " +
                    $"peak working set: {done.PeakWorkingSetBytes / (1024.0 * 1024.0):F1} MiB{(done.PeakIsThisVideos ? " (during this video)" : " (process)")}"));
                outcomes.Add(new PhotoOutcome(files[i], true, done.Faces.Most, done.OutputPath,
                    done.Input.Width * options.Restoration.Upscale, done.Input.Height * options.Restoration.Upscale, done.Seconds * 1000, null));
            }
            catch (Exception ex) when (CommandErrors.IsUserFacing(ex))
            {
                outcomes.Add(new PhotoOutcome(files[i], false, 0, null, 0, 0, 0, BatchRunner.Describe(ex)));
            }
        }
        return outcomes;
    }
}
