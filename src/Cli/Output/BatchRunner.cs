using CodeFormer.Cli.Commands;
using CodeFormer.Imaging;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using Spectre.Console;

namespace CodeFormer.Cli.Output;

/// <summary>The outcome of one photo of a batch.</summary>
internal sealed record PhotoOutcome(string Input, bool Succeeded, int Faces, string? Output, int Width, int Height, double Milliseconds, string? Error,
    IReadOnlyList<string>? Warnings = null);

/// <summary>
/// Restores a list of photos one after the other with a progress bar. A photo that fails is reported
/// and skipped; the others still complete, and the caller exits non-zero if any failed.
/// </summary>
internal sealed class BatchRunner(RestorationEngine engine, ResultWriter writer, IAnsiConsole console)
{
    public async Task<IReadOnlyList<PhotoOutcome>> RunAsync(IReadOnlyList<string> files, RestorationOptions options, CancellationToken cancellationToken)
    {
        var outcomes = new List<PhotoOutcome>();
        await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var overall = context.AddTask($"{files.Count} photo(s)", maxValue: files.Count);
                var names = OutputNames.For(files);
                for (int i = 0; i < files.Count; i++)
                {
                    var file = files[i];
                    cancellationToken.ThrowIfCancellationRequested();
                    // A task description is Spectre markup: a name like "[bold]x [y.jpg" must be escaped or the progress
                    // refresh throws on a background thread and aborts the process.
                    overall.Description = Markup.Escape(Path.GetFileName(file));
                    outcomes.Add(await RunOneAsync(file, names[i], options, overall, cancellationToken));
                    overall.Value = outcomes.Count;
                }
                overall.Description = $"{files.Count} photo(s)";
            });
        return outcomes;
    }

    private async Task<PhotoOutcome> RunOneAsync(string file, string outputName, RestorationOptions options, ProgressTask overall, CancellationToken cancellationToken)
    {
        double start = overall.Value;
        var progress = new Progress<RestorationProgress>(p => overall.Value = start + Math.Clamp(p.Fraction, 0, 1) * 0.99);
        try
        {
            // Capped as it reads: a "photo" that is a symlink to /dev/zero (or a FIFO) is refused at the limit, not read whole.
            var bytes = BoundedRead.ReadFile(file, ImageLimits.Default.MaxBytes, cancellationToken);
            var result = await engine.RestoreAsync(bytes, options, progress, cancellationToken);
            var written = writer.Write(file, result, outputName);
            return new PhotoOutcome(file, true, result.Faces.Count, written[0], result.Width, result.Height, result.Timings.Total, null, result.Warnings);
        }
        catch (Exception ex) when (CommandErrors.IsUserFacing(ex))
        {
            return new PhotoOutcome(file, false, 0, null, 0, 0, 0, Describe(ex));
        }
    }

    /// <summary>The failure as the summary shows it: a refused image always names the rule it broke.</summary>
    internal static string Describe(Exception ex) => ex switch
    {
        PhotoRefusedException { Rule: { } rule } when !ex.Message.Contains($"({rule})", StringComparison.Ordinal) => $"rejected ({rule}): {ex.Message}",
        ImageRejectedException rejected when !ex.Message.Contains($"({rejected.Rule})", StringComparison.Ordinal) => $"rejected ({rejected.Rule}): {ex.Message}",
        _ => ex.Message,
    };
}
