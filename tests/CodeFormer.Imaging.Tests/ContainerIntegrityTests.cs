using CodeFormer.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Imaging.Tests;

public sealed class ContainerIntegrityTests
{
    /// <summary>
    /// A 24×16 progressive JPEG with restart markers (libjpeg-turbo 2.1.5: jpeg_simple_progression, restart_in_rows 1,
    /// quality 90; pixel (x, y) = (10x, 15y, 128)). It has ten scans with DHT and DRI segments between them and RST
    /// markers inside the entropy data — every path of the marker walk that ImageSharp's own encoder never writes.
    /// </summary>
    private const string ProgressiveJpegWithRestarts =
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wgARCAAQABgDASIAAhEBAxEB/8QAFwAAAwEAAAAAAAAAAAAAAAAAAAYHBf/EABUBAQEAAAAAAAAAAAAAAAAAAAUH/90ABAAC/9oADAMBAAIQAxAAAAGP77+wJiIBXgCuf//EABYQAAMAAAAAAAAAAAAAAAAAAAADBf/dAAQAA//aAAgBAQABBQJMsTLEyz//0EyxMsTLP//EABkRAAIDAQAAAAAAAAAAAAAAAAAFBCExI//dAAQAAv/aAAgBAwEBPwFQ8yyK856f/8QAGhEAAgIDAAAAAAAAAAAAAAAAAAUCAyExYf/aAAgBAgEBPwG9t0m2zs//xAAVEAEBAAAAAAAAAAAAAAAAAAAAMf/dAAQAA//aAAgBAQAGPwKIj//QiI//xAAVEAEBAAAAAAAAAAAAAAAAAAAAMf/aAAgBAQABPyGRJk//0JMmR//dAAQAAv/aAAwDAQACAAMAAAAQR8//xAAVEQEBAAAAAAAAAAAAAAAAAAAAIf/aAAgBAwEBPxAs7//EABURAQEAAAAAAAAAAAAAAAAAABAx/9oACAECAQE/ELjv/8QAFRABAQAAAAAAAAAAAAAAAAAAAPH/3QAEAAP/2gAIAQEAAT8QkpCQ/9CQkJL/2Q==";

    private readonly ImageDecoder _decoder = new();

    [Fact]
    public void Progressive_jpeg_with_restart_markers_is_whole_and_decodes()
    {
        var jpeg = Convert.FromBase64String(ProgressiveJpegWithRestarts);

        Assert.Null(ContainerIntegrity.FindStructuralProblem(ImageFileFormat.Jpeg, jpeg));
        var decoded = _decoder.Decode(jpeg);

        Assert.Equal((24, 16), (decoded.Image.Width, decoded.Image.Height));
        var i = (8 * 24 + 12) * 3;
        Assert.InRange(decoded.Image.Pixels[i], 110f, 130f);
        Assert.InRange(decoded.Image.Pixels[i + 1], 110f, 130f);
        Assert.InRange(decoded.Image.Pixels[i + 2], 118f, 138f);
    }

    [Fact]
    public void Progressive_jpeg_cut_anywhere_is_truncated()
    {
        var jpeg = Convert.FromBase64String(ProgressiveJpegWithRestarts);

        for (var length = 2; length < jpeg.Length; length += 7)
        {
            Assert.NotNull(ContainerIntegrity.FindStructuralProblem(ImageFileFormat.Jpeg, jpeg.AsSpan(0, length)));
        }
        var withoutEndMarker = ContainerIntegrity.FindStructuralProblem(ImageFileFormat.Jpeg, jpeg.AsSpan(0, jpeg.Length - 2));
        Assert.Contains("truncated", withoutEndMarker);
        Assert.Contains($"{jpeg.Length - 2} bytes", withoutEndMarker);
    }

    [Fact]
    public void Bytes_after_the_end_marker_are_accepted()
    {
        // Cameras and editors often append data after EOI / IEND; that is not truncation.
        var jpeg = Convert.FromBase64String(ProgressiveJpegWithRestarts).Concat(new byte[] { 0, 1, 2, 3 }).ToArray();
        var png = EncodedImages.GradientPng(5, 5).Concat(new byte[] { 9, 9 }).ToArray();

        Assert.Null(ContainerIntegrity.FindStructuralProblem(ImageFileFormat.Jpeg, jpeg));
        Assert.Null(ContainerIntegrity.FindStructuralProblem(ImageFileFormat.Png, png));
        Assert.Equal(5, _decoder.Decode(png).Image.Width);
    }

    [Fact]
    public void Png_chunk_length_beyond_the_file_is_named()
    {
        var png = EncodedImages.GradientPng(5, 5);

        var problem = ContainerIntegrity.FindStructuralProblem(ImageFileFormat.Png, png.AsSpan(0, png.Length - 20));

        Assert.NotNull(problem);
        Assert.Contains("inside chunk", problem);
        Assert.Contains("more bytes", problem);
    }

    [Fact]
    public void Palette_png_with_transparency_chunk_has_alpha()
    {
        using var image = new Image<Rgba32>(4, 1);
        image[0, 0] = new Rgba32(255, 0, 0, 0);
        image[1, 0] = new Rgba32(0, 255, 0, 255);
        var png = EncodedImages.Encode(image, new PngEncoder { ColorType = PngColorType.Palette });

        var decoded = _decoder.Decode(png);

        Assert.True(decoded.HasAlpha);
        Assert.Equal(0f, decoded.Image.Alpha![0]);
        Assert.Equal(255f, decoded.Image.Alpha[1]);
    }
}
