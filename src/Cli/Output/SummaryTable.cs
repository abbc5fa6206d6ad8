using Spectre.Console;

namespace CodeFormer.Cli.Output;

/// <summary>The table printed after a batch: one row per photo, failures with their reason.</summary>
internal static class SummaryTable
{
    private static string Status(PhotoOutcome o)
    {
        if (!o.Succeeded)
        {
            return $"[red]failed:[/] {Markup.Escape(o.Error ?? "")}";
        }
        return o.Warnings is { Count: > 0 } warnings ? $"[yellow]ok, but {Markup.Escape(string.Join("; ", warnings))}[/]" : "[green]ok[/]";
    }

    public static void Render(IAnsiConsole console, IReadOnlyList<PhotoOutcome> outcomes, string outputRoot)
    {
        var table = new Table().AddColumns("photo", "faces", "output", "ms", "status");
        foreach (var o in outcomes)
        {
            table.AddRow(
                Markup.Escape(Path.GetFileName(o.Input)),
                o.Succeeded ? o.Faces.ToString() : "-",
                o.Succeeded ? $"{o.Width}×{o.Height}" : "-",
                o.Succeeded ? o.Milliseconds.ToString("F0") : "-",
                Status(o));
        }
        console.Write(table);
        int failed = outcomes.Count(o => !o.Succeeded);
        console.MarkupLine($"{outcomes.Count - failed} restored, {failed} failed; results in {Markup.Escape(outputRoot)}");
    }
}
