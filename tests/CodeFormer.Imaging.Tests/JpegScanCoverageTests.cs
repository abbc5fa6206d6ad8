using CodeFormer.Imaging;

namespace CodeFormer.Imaging.Tests;

/// <summary>
/// JPEGs whose every scan is whole but whose scans are not all there: a progressive file cut between (or inside) its
/// scans and closed with EOI, a sequential file whose later component scans are missing. libjpeg-turbo decodes them
/// without an error, blurred or without colour; they must be refused as truncated, and whole files must still decode.
/// </summary>
public sealed class JpegScanCoverageTests
{
    // 40 × 32 noisy colour gradient, encoded by libjpeg-turbo's cjpeg 2.1 (no C# encoder writes these):
    // `cjpeg -progressive -quality 90` (10 scans: DC, spectral selection, successive approximation) and
    // `cjpeg -scans` with "0;1;2;" (3 sequential scans, one per component).
    private static readonly byte[] Progressive = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGB" +
        "YUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wgARCAAg" +
        "ACgDASIAAhEBAxEB/8QAFwABAQEBAAAAAAAAAAAAAAAABQAGB//EABkBAAIDAQAAAAAAAAAAAAAAAAQGAgMFCP/aAAwDAQACEAMQAAAB4e0upO" +
        "olZhYt6zVrbVJEUcWTueBV1XSnzM2wi9D/xAAbEAACAwEBAQAAAAAAAAAAAAADBAABAhEhEv/aAAgBAQABBQIK0Ct6JfzC3ZtaqHlTsGtcwpV0" +
        "NTmmUNFANbsGr3Q1eQSvpQ/AgrQSkwtXRqwq9YX/AP/EACARAAIBAwQDAAAAAAAAAAAAAAEEAAIRMQMFUcETIUH/2gAIAQMBAT8BSex7ib0d3l" +
        "hbVA0RVj5SaueAYk/E3sG8Z3E0128hAtzbo9T/xAAcEQACAgIDAAAAAAAAAAAAAAAAAgEDBBEhsdH/2gAIAQIBAT8Bh9iWFTK689kPAthGXj0x" +
        "q30//8QAJRAAAQQCAAQHAAAAAAAAAAAAAQACESESMRBBgfBRYXGRscHh/9oACAEBAAY/Ah8ocPxZFgJachMfaG1ajXReCLMQ49J2hUhWEa9lAT" +
        "cYGTo13CqnIINMZkU3n3YXmnOcWgCzOvRf/8QAIBABAAICAgIDAQAAAAAAAAAAAQARITFBUWHwcYGRwf/aAAgBAQABPyFzIeoFaizF1VThNW7+" +
        "pXc4d1Ffi6lvKWA+bjFluaD3xFWijOICr/SdYtkJV2KbKtzjffnelMxDxUbFCXg5hoGDh7ce/ME5DWnUZioCPJwZp5GzxDptwFkoyP01mDyZKc" +
        "ChQ9LJpbqxuZVLCBF92sln3P/aAAwDAQACAAMAAAAQPBA9fC//xAAfEQACAQQCAwAAAAAAAAAAAAABESEAMUHwUWGRobH/2gAIAQMBAT8QTp6o" +
        "cAFbvmlhBBkIS8kiAsy+qYpdIZD7N+94oViQgA8iDZthgOGSV//EAB0RAQABBAMBAAAAAAAAAAAAAAEhABFR8DFB4YH/2gAIAQIBAT8QORN+9y" +
        "UIXvpUkkOBjKd06He/NKtcksbv2gaAs8OGD2v/xAAhEAEBAAICAgMBAQEAAAAAAAABESExAEFRYXGBkcGh4f/aAAgBAQABPxB+yntVldOs69+n" +
        "iEuiBABUO76fD7ObkVgQWYKk3nOe5whCzdDVj++GPu8L0MCMxUALmJO3CMCEkGce/AN9XmXYAf5NfO/f1x1E0Rk9M/JousPEamJSoJvu78/3KU" +
        "laxBBnmA2hpHAR4hQNYZ8Z1/zhIAUImWQIY1v+8MIiiQPZW2deezvFmOEkb91a+b+cSu7O7oAFUFjS2IkHXUmo29G/3DJAoTdkyKBp5akzjo4g" +
        "1gAJMAUEFsuQpyY4VGZenWmpsl++B6KJkKpYF1h9+f/Z");

    private static readonly byte[] SequentialOneScanPerComponent = Convert.FromBase64String(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGB" +
        "YUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAg" +
        "ACgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhBy" +
        "JxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT" +
        "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/APh/RPDDoYtyuS" +
        "Pl83qScZPQ9Oenv7Gu00fwyrTxsUTchClggUKACSB3z7H0PuK6rSvDv7vKvtDtkMMAnC8EkY688898V1lh4ZEyMAx2Nndtj46Zwfz9Dg++a0r/" +
        "AMMwQaYLqSzjnltZluo/MSMuMcM6+YyqpAz85YYx3PB4a18JPMsLKJGIw+1VA549/QKOvbNdRp/hiV9zyrtUhgE/QdPr19/wrr7LwlHPGkJQRD" +
        "IIPlAbvTn6joM9ODXWab4RMVwchI24Zc5IBHXvnr6/150PE3gO51bQprNLWO7mLq7JmPzWCyBsDflOWAHzZwN3DY2txWn+GmmEReFZI04ICBc8" +
        "HH056f8A1q6jTPC7T3AE0aqyBiFUkbs8gDA46df611+meFFjaRFjBVwVcRAAN/Dzk5zjt6t3PXr9K8KoknlxY3OF4RsFR198k5Prn8q19W0d7H" +
        "Srd7Z44jcXCQIrxdXfKqQwVhGcspBdSOinqCOC0XwyhVhE5juT8i7kA6YOc9h1/Pg4xjrNL8JhfLLqDnqHTAXDZAOR6nJGOeOwrpLPwzCskVpM" +
        "Yvtk0bNHbsQJCqlVZlXjIBkjBOcZZeRkV3WneFMBHLBZSyk7xjPY9OhyR1GM/jWnqnh2Kw8PXdxczW8MEY8yVpHRY3UMMwnewX5lDpknA3/Wv/" +
        "/EAB8BAAMBAQEBAQEBAQEAAAAAAAABAgMEBQYHCAkKC//EALURAAIBAgQEAwQHBQQEAAECdwABAgMRBAUhMQYSQVEHYXETIjKBCBRCkaGxwQkj" +
        "M1LwFWJy0QoWJDThJfEXGBkaJicoKSo1Njc4OTpDREVGR0hJSlNUVVZXWFlaY2RlZmdoaWpzdHV2d3h5eoKDhIWGh4iJipKTlJWWl5iZmqKjpK" +
        "Wmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uLj5OXm5+jp6vLz9PX29/j5+v/aAAgBAhEAPwDeFdS1Wt+v9d0erRxKSvf+kfVYWpSr" +
        "U/fa0f8AMl27tdT8dhXi9H/XX/gf0j1aWItutXp/X9fM9aObZfgoKOKaTeuzl27L/gn/2gAIAQMRAD8A5slz23L739eh+6ZNnq0Sdv6/r7z0c7" +
        "4zzDLcVGGDjUs4q7jSlUTd5dYwlZpW6638j/PLJc+vbW5+8ZPnluWTlp+eu/n/AF2PfzPiKdOuofWJQjyppKbj1ae0Z32XSK7Xbdv/2Q==");

    private readonly ImageDecoder _decoder = new();

    private static List<int> ScanStarts(byte[] jpeg)
    {
        var starts = new List<int>();
        for (var i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA)
            {
                starts.Add(i);
            }
        }
        return starts;
    }

    private static byte[] CutAndClose(byte[] jpeg, int length) => [.. jpeg.AsSpan(0, length), 0xFF, 0xD9];

    [Fact]
    public void Whole_progressive_and_multi_scan_files_decode()
    {
        Assert.Equal(10, ScanStarts(Progressive).Count);
        Assert.Equal(3, ScanStarts(SequentialOneScanPerComponent).Count);

        var progressive = _decoder.Decode(Progressive).Image;
        var sequential = _decoder.Decode(SequentialOneScanPerComponent).Image;

        Assert.Equal((40, 32), (progressive.Width, progressive.Height));
        // Same pixels, two encodings of the same quality: they agree closely (and neither is grey).
        var difference = progressive.Pixels.Zip(sequential.Pixels, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(difference < 3, $"mean difference {difference}");
        Assert.True(progressive.Pixels.Max() - progressive.Pixels.Min() > 100);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    public void Progressive_file_cut_between_scans_and_closed_with_eoi_is_truncated(int scansKept)
    {
        var file = CutAndClose(Progressive, ScanStarts(Progressive)[scansKept]);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file));

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Contains("blurred or without colour", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    public void Progressive_file_cut_inside_a_scan_refinement_scans_included_is_truncated(int scan)
    {
        // Scans 6 to 10 of libjpeg's script are successive-approximation refinements, whose blocks can be counted only
        // with the history of which coefficients are already nonzero; they were not checked before.
        var starts = ScanStarts(Progressive);
        var end = scan < starts.Count ? starts[scan] : Progressive.Length - 2;
        var file = CutAndClose(Progressive, (starts[scan - 1] + end) / 2);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file));

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
    }

    [Theory]
    [InlineData(1, "colour component 2 of 3 is never sent")]
    [InlineData(2, "colour component 3 of 3 is never sent")]
    public void Sequential_file_missing_its_later_component_scans_is_truncated(int scansKept, string expected)
    {
        var file = CutAndClose(SequentialOneScanPerComponent, ScanStarts(SequentialOneScanPerComponent)[scansKept]);

        var error = Assert.Throws<ImageRejectedException>(() => _decoder.Decode(file));

        Assert.Equal(ImageRejectionRule.Truncated, error.Rule);
        Assert.Contains(expected, error.Message);
    }
}
