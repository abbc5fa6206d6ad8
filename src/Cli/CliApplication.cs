using System.CommandLine;
using CodeFormer.Cli.Commands;

namespace CodeFormer.Cli;

/// <summary>The command tree of the <c>codeformer</c> tool.</summary>
public static class CliApplication
{
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("CodeFormer.Cloud: restore faces in photos with CodeFormer on ONNX Runtime.");
        root.Subcommands.Add(RestoreCommand.Create());
        root.Subcommands.Add(FaceTaskCommand.Create(Engine.Tasks.FaceTask.Colorize));
        root.Subcommands.Add(FaceTaskCommand.Create(Engine.Tasks.FaceTask.Inpaint));
        root.Subcommands.Add(ModelsCommand.Create());
        return root;
    }
}
