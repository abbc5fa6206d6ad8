using CodeFormer.Imaging;
using static CodeFormer.Imaging.Tests.CraftedFiles;

namespace CodeFormer.Imaging.Tests;

/// <summary>
/// Classes of hostile input found by a second round of attacks (a generated corpus run through Decode, each file in a
/// child process): every test builds its own file and asserts the rule, the words, or the correct result.
/// </summary>
public sealed class HostileImageClassTests
{
    private readonly ImageDecoder _decoder = new();

    private ImageRejectedException Refused(byte[] file) => Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file));

    /// <summary>A zlib stream with the FDICT flag: CMF 0x78, FLG 0xBB (check bits valid), then a dictionary id.</summary>
    private static byte[] WithPresetDictionaryFlag(byte[] zlib) => [0x78, 0xBB, 0, 0, 0, 1, .. zlib[2..]];

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Png_image_data_asking_for_a_preset_zlib_dictionary_is_damaged_data_not_an_internal_error(byte bitDepth)
    {
        // .NET's inflater throws ZLibException (not InvalidDataException) on FDICT: it escaped as "The underlying
        // compression routine returned an unexpected error code".
        var rows = RgbRows(16, 8);
        if (bitDepth == 16)
        {
            rows = [.. Enumerable.Range(0, 8).SelectMany(y => new byte[] { 0 }.Concat(new byte[16 * 6]))];
        }
        var file = Png(Ihdr(16, 8, bitDepth), Chunk("IDAT", WithPresetDictionaryFlag(Zlib(rows))), Chunk("IEND", []));

        var error = Refused(file);

        Assert.Equal(ImageRejectionRule.DamagedData, error.Rule);
        Assert.Contains("preset zlib dictionary", error.Message);
    }

    [Theory]
    [InlineData("zTXt")]
    [InlineData("iCCP")]
    public void Compressed_metadata_asking_for_a_preset_dictionary_is_ignored_like_other_damaged_metadata(string type)
    {
        byte[] metadata = [.. "key"u8, 0, 0, .. WithPresetDictionaryFlag(Zlib("some text"u8.ToArray()))];
        var file = Png(Ihdr(16, 8), Chunk(type, metadata), Chunk("IDAT", Zlib(RgbRows(16, 8))), Chunk("IEND", []));

        var decoded = _decoder.Decode(file);

        Assert.Equal((16, 8), (decoded.Image.Width, decoded.Image.Height));
        Assert.Equal(7 * 3, decoded.Image.Pixels[3 * 3]); // pixel (3, 0), red = x * 7
    }
}
