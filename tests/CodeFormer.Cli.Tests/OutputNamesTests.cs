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

    [Fact]
    public void Long_names_are_shortened_so_every_output_name_fits_255_bytes()
    {
        var longAscii = "/in/" + new string('a', 250) + ".png";
        var longUtf8 = "/in/" + string.Concat(Enumerable.Repeat("é😀", 40)) + ".jpg"; // 240 bytes of 2- and 4-byte characters
        var twins = new[] { "/x/" + new string('b', 250) + ".png", "/y/" + new string('b', 250) + ".png" };

        var names = OutputNames.For([longAscii, longUtf8, .. twins]);

        Assert.All(names, n => Assert.True(System.Text.Encoding.UTF8.GetByteCount(n + "_00.png.tmp") <= 255, n));
        Assert.StartsWith(new string('a', 200), names[0]);
        Assert.False(char.IsHighSurrogate(names[1][^1]), "a surrogate pair was cut in half");
        Assert.NotEqual(names[2], names[3]);
    }
}
