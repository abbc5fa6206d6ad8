using CodeFormer.Cli.Output;

namespace CodeFormer.Cli.Tests;

public sealed class OutputNamesTests
{
    [Fact]
    public void Unique_stems_are_kept()
    {
        Assert.Equal(["astronaut", "hopper"], OutputNames.For(["/in/astronaut.png", "/in/hopper.jpg"]));
    }

    [Fact]
    public void Colliding_stems_get_the_extension_and_then_a_counter()
    {
        var names = OutputNames.For(["/a/face.png", "/a/face.jpg", "/b/face.png", "/b/other.webp", "/c/FACE.PNG"]);

        Assert.Equal(["face_png", "face_jpg", "face_png_2", "other", "FACE_png_3"], names);
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
