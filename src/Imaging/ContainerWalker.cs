using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace CodeFormer.Imaging;

/// <summary>What the container walk established: the one authoritative header, and the EXIF bytes if any.</summary>
internal sealed record ContainerFacts(
    ImageFileFormat Format,
    int Width,
    int Height,
    int BitDepth,
    bool HasAlpha,
    bool Greyscale,
    byte[]? Exif,
    long Length);

/// <summary>
/// Walks a JPEG, PNG or WebP container sequentially, once, through a bounded buffer: every chunk or segment, its
/// length, its checksum (PNG), and the header fields. This walk — not ImageSharp's Identify, which reads the LAST IHDR
/// and inflates every zTXt whole — is the authoritative header:
/// <list type="bullet">
/// <item>exactly one header (IHDR, JPEG frame header, WebP image chunk); a second one, or a WebP canvas that is not its
/// image's size, is refused, because decoders disagree about which one counts;</item>
/// <item>animations (APNG acTL, WebP ANIM/ANMF or the VP8X animation flag) are refused;</item>
/// <item>compressed metadata (zTXt, iTXt, iCCP) is inflated with a bound and refused past it;</item>
/// <item>the file ends where its structure says (truncation is named), and reads stop at MaxBytes as they go.</item>
/// </list>
/// What only a full decode shows (a zlib stream ending early inside IDAT, missing JPEG blocks) is found later by the
/// decoder (<see cref="ImageDecoder"/>, <see cref="JpegScanCompleteness"/>).
/// </summary>
internal sealed class ContainerWalker
{
    /// <summary>EXIF larger than this is ignored (JPEG's own APP1 limit is 64 KB; nothing real needs more).</summary>
    private const int MaxExifBytes = 1024 * 1024;

    /// <summary>A compressed metadata chunk is read into memory to inflate it; refuse absurd ones before reading them.</summary>
    private const int MaxCompressedMetadataChunk = 8 * 1024 * 1024;

    /// <summary>
    /// Most compressed metadata chunks (zTXt, iTXt, iCCP) a PNG may have. Each one costs an inflater however little it
    /// holds: 48 MB of 2 M empty zTXt chunks took 10 CPU seconds in this walk alone (14 s to decode). Real files have a
    /// handful (PNG allows one iCCP); libpng itself keeps at most 1,000 ancillary chunks (PNG_USER_CHUNK_CACHE_MAX).
    /// </summary>
    internal const int MaxCompressedMetadataChunks = 1000;

    /// <summary>
    /// Most scans a JPEG may have. Each progressive scan is a pass over every block of its component, however few bytes
    /// it holds (an end-of-band run covers 32767 blocks in 18 bits), so a 550 KB, 100 MP file of 883 legal scans kept the
    /// decode busy 14 s only to be refused (measured: SkiaSharp's libjpeg-turbo wrapper aborts at its 100th scan, after
    /// our coverage walk had already walked all of them). Encoders write far fewer: libjpeg's and mozjpeg's progressive
    /// scripts 10 for colour and 6 for grey, a sequential file one per component; 64 leaves room for hand-written scan
    /// scripts (libjpeg-turbo's advice is to cap the scan count; its fuzzers use 500, Skia 100).
    /// </summary>
    internal const int MaxJpegScans = 64;

    private readonly BoundedSource _source;
    private byte[]? _inflateScratch;
    private readonly ImageLimits _limits;
    private readonly CancellationToken _cancellationToken;

    /// <summary>
    /// Called with the stored size as soon as the authoritative header is read, so size limits refuse a file before the
    /// rest of it is read (the caller's check throws).
    /// </summary>
    public Action<int, int>? HeaderFound { get; set; }

    private ContainerWalker(Stream stream, ImageLimits limits, CancellationToken cancellationToken)
    {
        _source = new BoundedSource(stream, limits.MaxBytes);
        _limits = limits;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The first bytes of the stream (up to 32), for format detection, without consuming them.</summary>
    public static async ValueTask<(ContainerWalker Walker, byte[] Head)> OpenAsync(Stream stream, ImageLimits limits, CancellationToken cancellationToken)
    {
        var walker = new ContainerWalker(stream, limits, cancellationToken);
        await walker._source.EnsureAsync(32, cancellationToken).ConfigureAwait(false);
        var head = walker._source.Peek(Math.Min(32, walker._source.Buffered)).ToArray();
        return (walker, head);
    }

    public async ValueTask<ContainerFacts> WalkAsync(ImageFileFormat format)
    {
        var facts = format switch
        {
            ImageFileFormat.Png => await WalkPngAsync().ConfigureAwait(false),
            ImageFileFormat.Jpeg => await WalkJpegAsync().ConfigureAwait(false),
            ImageFileFormat.Webp => await WalkWebpAsync().ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image file format."),
        };
        // Data after the end of the image is allowed (cameras append it) but still counts against MaxBytes.
        await _source.DrainAsync(_cancellationToken).ConfigureAwait(false);
        return facts with { Length = _source.BytesRead };
    }

    // ---------------------------------------------------------------- PNG

    private async ValueTask<ContainerFacts> WalkPngAsync()
    {
        const string png = "PNG";
        await _source.SkipAsync(8, null, _cancellationToken).ConfigureAwait(false);
        (int Width, int Height, int BitDepth, int ColourType)? header = null;
        var hasPalette = false;
        var hasTransparency = false;
        var idatState = 0; // 0 none yet, 1 inside the IDAT run, 2 after it
        byte[]? exif = null;
        long inflatedMetadata = 0;
        var compressedMetadataChunks = 0;
        while (true)
        {
            var chunkStart = _source.Position;
            if (!await _source.EnsureAsync(8, _cancellationToken).ConfigureAwait(false))
            {
                throw ImageRefusals.Truncated(png, _source.BytesRead, "before its IEND chunk");
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(_source.Peek(4));
            var typeBytes = _source.Peek(8)[4..].ToArray();
            var type = Encoding.ASCII.GetString(typeBytes);
            if (!typeBytes.All(b => b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z'))
            {
                throw ImageRefusals.Malformed(png, $"the chunk at offset {chunkStart} has no valid chunk type (0x{Convert.ToHexString(typeBytes)})");
            }
            if (length > int.MaxValue)
            {
                throw ImageRefusals.Malformed(png, $"the chunk {type} at offset {chunkStart} declares an impossible length {length}");
            }
            _source.Advance(8);
            var crc = new Crc32();
            crc.Append(typeBytes);
            if (header is null && type == "CgBI")
            {
                // Xcode's "optimised" PNGs: raw deflate without a zlib header, BGRA with premultiplied alpha. libpng
                // refuses them; naming them tells the user to export a standard PNG.
                throw ImageRefusals.Unsupported("an Apple CgBI PNG (Xcode's iPhone-optimised variant, which standard PNG decoders cannot read)");
            }
            if (header is null && type != "IHDR")
            {
                throw ImageRefusals.Malformed(png, $"its first chunk is {type}, not the IHDR header");
            }
            if (idatState == 1 && type != "IDAT")
            {
                idatState = 2;
            }

            byte[]? data = null;
            switch (type)
            {
                case "IHDR":
                    if (header is not null)
                    {
                        throw ImageRefusals.Malformed(png, $"it has a second IHDR header at offset {chunkStart} (decoders disagree about which one counts)");
                    }
                    if (length != 13)
                    {
                        throw ImageRefusals.Malformed(png, $"its IHDR header is {length} bytes long instead of 13");
                    }
                    data = await ReadChunkDataAsync(png, type, (int)length, crc).ConfigureAwait(false);
                    header = ParseIhdr(data);
                    HeaderFound?.Invoke(header.Value.Width, header.Value.Height);
                    break;
                case "acTL" or "fcTL" or "fdAT":
                    throw ImageRefusals.Animated(png, $"it has an APNG {type} chunk");
                case "PLTE":
                    // libpng stops at these with an error that Skia reported as "incomplete input", so they were refused as
                    // truncated: name them. A bad palette in an RGB image is only a suggestion libpng ignores, as here.
                    if (hasPalette)
                    {
                        throw ImageRefusals.Malformed(png, $"it has a second palette (PLTE) at offset {chunkStart}");
                    }
                    if (header!.Value.ColourType == 3 && (length % 3 != 0 || length is 0 or > 768))
                    {
                        throw ImageRefusals.Malformed(png, $"its palette (PLTE) is {length} bytes, not 1 to 256 colours of 3 bytes");
                    }
                    hasPalette = true;
                    break;
                case "tRNS":
                    hasTransparency = true;
                    break;
                case "IDAT":
                    if (idatState == 2)
                    {
                        throw ImageRefusals.Malformed(png, $"its image data (IDAT) is interrupted by other chunks before offset {chunkStart}");
                    }
                    if (header!.Value.ColourType == 3 && !hasPalette)
                    {
                        throw ImageRefusals.Malformed(png, "it is a palette image without a palette (PLTE) before its image data");
                    }
                    idatState = 1;
                    break;
                case "zTXt" or "iTXt" or "iCCP":
                    if (length > MaxCompressedMetadataChunk)
                    {
                        throw ImageRefusals.MetadataBomb(png, $"chunk {type} is {length} bytes compressed", MaxCompressedMetadataChunk);
                    }
                    if (++compressedMetadataChunks > MaxCompressedMetadataChunks)
                    {
                        throw ImageRefusals.MetadataChunkFlood(png, "compressed metadata chunks (zTXt, iTXt, iCCP)", MaxCompressedMetadataChunks);
                    }
                    data = await ReadChunkDataAsync(png, type, (int)length, crc).ConfigureAwait(false);
                    break;
                case "eXIf":
                    if (length <= MaxExifBytes)
                    {
                        data = await ReadChunkDataAsync(png, type, (int)length, crc).ConfigureAwait(false);
                        exif ??= data;
                    }
                    break;
                case "IEND":
                    break;
                default:
                    // An unknown critical chunk (upper-case first letter) means the image cannot be read correctly.
                    if (char.IsUpper(type[0]))
                    {
                        throw ImageRefusals.Malformed(png, $"it has an unknown critical chunk {type} at offset {chunkStart}");
                    }
                    break;
            }
            if (data is null)
            {
                var skipped = await _source.SkipAsync(length, piece => crc.Append(piece), _cancellationToken).ConfigureAwait(false);
                if (skipped < length)
                {
                    throw ImageRefusals.Truncated(png, _source.BytesRead, $"inside chunk {type} which needs {length + 4 - skipped} more bytes");
                }
            }
            if (!await _source.EnsureAsync(4, _cancellationToken).ConfigureAwait(false))
            {
                throw ImageRefusals.Truncated(png, _source.BytesRead, $"inside chunk {type} which needs {4 - _source.Buffered} more bytes");
            }
            var storedCrc = BinaryPrimitives.ReadUInt32BigEndian(_source.Peek(4));
            _source.Advance(4);
            if (storedCrc != crc.GetCurrentHashAsUInt32())
            {
                throw ImageRefusals.Malformed(png, $"chunk {type} at offset {chunkStart} is damaged (its CRC checksum does not match its data)");
            }
            if (data is not null && type is "zTXt" or "iTXt" or "iCCP")
            {
                inflatedMetadata += InflatedMetadataSize(type, data, _limits.MaxMetadataBytes - inflatedMetadata);
            }
            if (type == "IEND")
            {
                if (idatState == 0)
                {
                    throw ImageRefusals.Malformed(png, "it has no image data (IDAT) before IEND");
                }
                var (width, height, bitDepth, colourType) = header!.Value;
                return new ContainerFacts(
                    ImageFileFormat.Png,
                    width,
                    height,
                    bitDepth == 16 ? 16 : 8,
                    colourType is 4 or 6 || hasTransparency,
                    colourType is 0 or 4,
                    exif,
                    0);
            }
        }
    }

    private async ValueTask<byte[]> ReadChunkDataAsync(string format, string type, int length, Crc32 crc)
    {
        var data = await _source.ReadAsync(length, piece => crc.Append(piece), _cancellationToken).ConfigureAwait(false);
        return data ?? throw ImageRefusals.Truncated(format, _source.BytesRead, $"inside chunk {type} which needs more bytes");
    }

    private static (int, int, int, int) ParseIhdr(ReadOnlySpan<byte> ihdr)
    {
        const string png = "PNG";
        var width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        var height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        int bitDepth = ihdr[8], colourType = ihdr[9];
        if (width is 0 or > int.MaxValue || height is 0 or > int.MaxValue)
        {
            throw ImageRefusals.Malformed(png, $"its IHDR gives an impossible size {width}×{height}");
        }
        var validDepth = colourType switch
        {
            0 => bitDepth is 1 or 2 or 4 or 8 or 16,
            3 => bitDepth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => bitDepth is 8 or 16,
            _ => false,
        };
        if (!validDepth)
        {
            throw ImageRefusals.Malformed(png, $"its IHDR combines colour type {colourType} with bit depth {bitDepth}, which PNG does not define");
        }
        if (ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1)
        {
            throw ImageRefusals.Malformed(png, $"its IHDR names compression {ihdr[10]}, filter {ihdr[11]}, interlace {ihdr[12]}, which PNG does not define");
        }
        return ((int)width, (int)height, bitDepth, colourType);
    }

    /// <summary>
    /// Inflates the compressed part of a zTXt, iTXt or iCCP chunk into a small scratch buffer, counting, and refuses as
    /// soon as the file's total passes the budget; the inflated text itself is not kept (nothing here needs it).
    /// Damaged compressed metadata is not a reason to refuse a photo (libpng only warns): it counts as zero.
    /// </summary>
    private long InflatedMetadataSize(string type, byte[] data, long budget)
    {
        var keywordEnd = Array.IndexOf(data, (byte)0);
        if (keywordEnd < 0)
        {
            return 0;
        }
        int compressedStart;
        if (type == "iTXt")
        {
            // keyword \0 compression-flag method language \0 translated-keyword \0 text
            if (keywordEnd + 2 >= data.Length || data[keywordEnd + 1] == 0)
            {
                return 0; // uncompressed iTXt: its size is its length, already bounded by MaxBytes
            }
            var languageEnd = Array.IndexOf(data, (byte)0, keywordEnd + 3);
            var translatedEnd = languageEnd < 0 ? -1 : Array.IndexOf(data, (byte)0, languageEnd + 1);
            if (translatedEnd < 0)
            {
                return 0;
            }
            compressedStart = translatedEnd + 1;
        }
        else
        {
            compressedStart = keywordEnd + 2; // keyword \0 method
        }
        if (compressedStart > data.Length)
        {
            return 0;
        }
        long total = 0;
        var scratch = _inflateScratch ??= new byte[64 * 1024];
        try
        {
            using var input = new MemoryStream(data, compressedStart, data.Length - compressedStart, writable: false);
            using var inflater = new ZLibStream(input, CompressionMode.Decompress);
            int read;
            while ((read = inflater.Read(scratch, 0, scratch.Length)) > 0)
            {
                total += read;
                if (total > budget)
                {
                    throw ImageRefusals.MetadataBomb("PNG", $"(chunk {type}) inflates to more than {_limits.MaxMetadataBytes} bytes in all", _limits.MaxMetadataBytes);
                }
                _cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // ZLibException (an IOException) for a preset dictionary or a bad header: damaged metadata, as above.
            return 0;
        }
        return total;
    }

    // ---------------------------------------------------------------- JPEG

    private async ValueTask<ContainerFacts> WalkJpegAsync()
    {
        const string jpeg = "JPEG";
        if (!await _source.EnsureAsync(2, _cancellationToken).ConfigureAwait(false) || _source.Peek(2)[0] != 0xFF || _source.Peek(2)[1] != 0xD8)
        {
            throw ImageRefusals.NotDecodable("the JPEG does not start with a start-of-image marker");
        }
        _source.Advance(2);
        (int Width, int Height, int Components, byte[] QuantTables, byte[] ComponentIds)? frame = null;
        var definedQuantTables = new bool[4];
        var scans = 0;
        int? adobeTransform = null;
        byte[]? exif = null;
        var insideScan = false;
        while (true)
        {
            if (insideScan)
            {
                await SkipEntropyCodedDataAsync().ConfigureAwait(false);
                insideScan = false;
            }
            if (!await _source.EnsureAsync(1, _cancellationToken).ConfigureAwait(false))
            {
                throw ImageRefusals.Truncated(jpeg, _source.BytesRead, "before the end-of-image marker");
            }
            if (_source.Peek(1)[0] != 0xFF)
            {
                throw ImageRefusals.NotDecodable($"the JPEG has byte 0x{_source.Peek(1)[0]:X2} at offset {_source.Position} where a marker should start");
            }
            byte marker;
            while (true)
            {
                if (!await _source.EnsureAsync(1, _cancellationToken).ConfigureAwait(false))
                {
                    throw ImageRefusals.Truncated(jpeg, _source.BytesRead, "inside a marker");
                }
                marker = _source.Peek(1)[0];
                _source.Advance(1);
                if (marker != 0xFF)
                {
                    break;
                }
            }
            var markerOffset = _source.Position - 2;
            if (marker == 0xD9)
            {
                if (scans == 0)
                {
                    throw ImageRefusals.Truncated(jpeg, _source.BytesRead, "at an end-of-image marker before any image data");
                }
                var (width, height, components, _, _) = frame!.Value;
                return new ContainerFacts(ImageFileFormat.Jpeg, width, height, 8, false, components == 1, exif, 0);
            }
            if (marker == 0xD8)
            {
                throw ImageRefusals.Malformed(jpeg, $"it has a second start-of-image marker at offset {markerOffset}");
            }
            if (marker is 0x01 or >= 0xD0 and <= 0xD7)
            {
                continue; // markers without a length field
            }
            if (!await _source.EnsureAsync(2, _cancellationToken).ConfigureAwait(false))
            {
                throw ImageRefusals.Truncated(jpeg, _source.BytesRead, $"inside the length of marker 0xFF{marker:X2}");
            }
            var segmentLength = BinaryPrimitives.ReadUInt16BigEndian(_source.Peek(2));
            if (segmentLength < 2)
            {
                throw ImageRefusals.NotDecodable($"the JPEG marker 0xFF{marker:X2} at offset {markerOffset} declares an impossible length {segmentLength}");
            }
            _source.Advance(2);
            var payloadLength = segmentLength - 2;
            var isFrame = marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            var keep = isFrame || marker is 0xDB or 0xDA or 0xEE || (marker == 0xE1 && exif is null);
            byte[]? payload = null;
            if (keep)
            {
                payload = await _source.ReadAsync(payloadLength, null, _cancellationToken).ConfigureAwait(false);
                if (payload is null)
                {
                    throw ImageRefusals.Truncated(jpeg, _source.BytesRead, $"inside marker 0xFF{marker:X2} which needs more bytes");
                }
            }
            else
            {
                var skipped = await _source.SkipAsync(payloadLength, null, _cancellationToken).ConfigureAwait(false);
                if (skipped < payloadLength)
                {
                    throw ImageRefusals.Truncated(jpeg, _source.BytesRead, $"inside marker 0xFF{marker:X2} which needs {payloadLength - skipped} more bytes");
                }
            }

            if (isFrame)
            {
                if (frame is not null)
                {
                    throw ImageRefusals.Malformed(jpeg, $"it has a second frame header (0xFF{marker:X2}) at offset {markerOffset} (decoders disagree about which one counts)");
                }
                if (marker is not (0xC0 or 0xC1 or 0xC2))
                {
                    throw ImageRefusals.Unsupported(marker switch
                    {
                        0xC3 or 0xC7 or 0xCB or 0xCF => "a lossless JPEG",
                        0xC5 or 0xC6 or 0xCD or 0xCE => "a hierarchical JPEG",
                        _ => "an arithmetic-coded JPEG",
                    });
                }
                frame = ParseFrame(payload!);
                HeaderFound?.Invoke(frame.Value.Width, frame.Value.Height);
            }
            else if (marker == 0xDB)
            {
                MarkQuantTables(payload!, definedQuantTables);
            }
            else if (marker == 0xDA)
            {
                if (frame is null)
                {
                    throw ImageRefusals.Malformed(jpeg, $"its image data starts at offset {markerOffset} before any frame header");
                }
                foreach (var table in frame.Value.QuantTables)
                {
                    if (!definedQuantTables[table])
                    {
                        throw ImageRefusals.Malformed(jpeg, $"its frame uses quantization table {table}, which the file never defines");
                    }
                }
                if (scans == 0)
                {
                    RequireKnownColourTransform(adobeTransform, frame.Value.Components);
                }
                RequireValidScanHeader(payload!, frame.Value.ComponentIds, scans + 1);
                if (++scans > MaxJpegScans)
                {
                    throw ImageRefusals.Unsupported(
                        $"a JPEG of more than {MaxJpegScans} scans (encoders write at most about 20; each scan is a pass over the whole image, so a small file of hundreds of scans keeps the decoder busy for many seconds)");
                }
                insideScan = true;
            }
            else if (marker == 0xEE && scans == 0 && payload!.Length >= 12 && payload.AsSpan().StartsWith("Adobe"u8))
            {
                adobeTransform = payload[11]; // libjpeg reads the last one before the image data
            }
            else if (marker == 0xE1 && payload is not null && payload.AsSpan().StartsWith("Exif\0\0"u8))
            {
                exif = payload.Length <= MaxExifBytes ? payload : null;
            }
            else if (marker is 0xDC or 0xDE or 0xDF)
            {
                throw ImageRefusals.Unsupported(marker == 0xDC ? "a JPEG whose height is set by a DNL marker" : "a hierarchical JPEG");
            }
        }
    }

    /// <summary>
    /// Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), a restart marker or fill 0xFF; anything else is
    /// the next marker, which is left unread.
    /// </summary>
    private async ValueTask SkipEntropyCodedDataAsync()
    {
        while (true)
        {
            if (!await _source.EnsureAsync(2, _cancellationToken).ConfigureAwait(false))
            {
                throw ImageRefusals.Truncated("JPEG", _source.BytesRead, "inside compressed image data, before the end-of-image marker");
            }
            var buffered = _source.PeekBuffered();
            var relative = buffered.IndexOf((byte)0xFF);
            if (relative < 0 || relative + 1 >= buffered.Length)
            {
                _source.Advance(relative < 0 ? buffered.Length : relative);
                continue;
            }
            var next = buffered[relative + 1];
            if (next == 0x00 || next is >= 0xD0 and <= 0xD7)
            {
                _source.Advance(relative + 2);
                continue;
            }
            if (next == 0xFF)
            {
                _source.Advance(relative + 1);
                continue;
            }
            _source.Advance(relative);
            return;
        }
    }

    /// <summary>
    /// Adobe's APP14 segment says how 3- and 4-component data is coded: 0 as stored (RGB, or CMYK stored inverted, as
    /// Adobe writes it), 1 YCbCr (3 components), 2 YCCK (4 components). Any other value is a guess: libjpeg-turbo warns
    /// and decodes 4 components as YCCK and 3 as YCbCr, so a CMYK file marked 1 came out in unrelated colours.
    /// Without the segment, 3 components are YCbCr and 4 are CMYK, as every libjpeg-based decoder (OpenCV's too) reads them.
    /// </summary>
    private static void RequireKnownColourTransform(int? transform, int components)
    {
        if (transform is not { } value || components == 1)
        {
            return;
        }
        var known = components == 4 ? value is 0 or 2 : value is 0 or 1;
        if (!known)
        {
            throw ImageRefusals.Malformed("JPEG",
                $"its Adobe segment names colour transform {value} for {components} components, which is not defined (0 stores the colours as they are, {(components == 4 ? "2 means YCCK" : "1 means YCbCr")})");
        }
    }

    /// <summary>A scan header: 1..4 components the frame has, table selectors 0..3, and a length that fits them.</summary>
    private static void RequireValidScanHeader(byte[] payload, byte[] frameComponents, int scan)
    {
        var count = payload.Length > 0 ? payload[0] : 0;
        if (count is < 1 or > 4 || payload.Length != 1 + 2 * count + 3)
        {
            throw ImageRefusals.Malformed("JPEG", $"scan {scan} has a header of {payload.Length} bytes for {count} components");
        }
        for (var i = 0; i < count; i++)
        {
            int id = payload[1 + 2 * i], selectors = payload[2 + 2 * i];
            if (Array.IndexOf(frameComponents, (byte)id) < 0 || (selectors >> 4) > 3 || (selectors & 15) > 3)
            {
                throw ImageRefusals.Malformed("JPEG", $"scan {scan} names component {id} or Huffman tables 0x{selectors:X2} that cannot exist");
            }
        }
    }

    private static (int, int, int, byte[], byte[]) ParseFrame(byte[] payload)
    {
        const string jpeg = "JPEG";
        if (payload.Length < 6)
        {
            throw ImageRefusals.Malformed(jpeg, $"its frame header is {payload.Length} bytes, too short");
        }
        int precision = payload[0];
        int height = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(1));
        int width = BinaryPrimitives.ReadUInt16BigEndian(payload.AsSpan(3));
        int components = payload[5];
        if (precision != 8)
        {
            throw ImageRefusals.Unsupported($"a {precision}-bit JPEG");
        }
        if (width == 0 || height == 0)
        {
            throw ImageRefusals.Malformed(jpeg, $"its frame header gives an impossible size {width}×{height}");
        }
        if (components is not (1 or 3 or 4) || payload.Length < 6 + 3 * components)
        {
            throw ImageRefusals.Malformed(jpeg, $"its frame header declares {components} colour components in {payload.Length} bytes");
        }
        var tables = new byte[components];
        var ids = new byte[components];
        for (var c = 0; c < components; c++)
        {
            ids[c] = payload[6 + 3 * c];
            int sampling = payload[7 + 3 * c];
            int h = sampling >> 4, v = sampling & 15;
            tables[c] = payload[8 + 3 * c];
            if (h is < 1 or > 4 || v is < 1 or > 4 || tables[c] > 3)
            {
                throw ImageRefusals.Malformed(jpeg, $"component {c + 1} has impossible sampling {h}×{v} or quantization table {tables[c]}");
            }
            // libjpeg-turbo gives duplicates fresh IDs and matches scans by position; other decoders take the first
            // component with the ID for every scan naming it. Which data is which colour is then a guess: refuse.
            var earlier = Array.IndexOf(ids, ids[c], 0, c);
            if (earlier >= 0)
            {
                throw ImageRefusals.Malformed(jpeg, $"components {earlier + 1} and {c + 1} share the ID {ids[c]}, so its scans cannot say which colour their data is");
            }
        }
        RequireDecodableSampling(payload, components);
        return (width, height, components, tables, ids);
    }

    /// <summary>
    /// Sampling factors libjpeg-turbo refuses only when it starts decoding, with an error that reached users as "damaged
    /// data": an interleaved MCU of more than 10 blocks (T.81 B.2.3), and factors that are not whole multiples of the
    /// largest one (it upsamples only by whole factors).
    /// </summary>
    private static void RequireDecodableSampling(byte[] payload, int components)
    {
        if (components == 1)
        {
            return; // a single component's scan is not interleaved: one block per MCU whatever its factors
        }
        int maxH = 1, maxV = 1, blocks = 0;
        var factors = new List<string>();
        for (var c = 0; c < components; c++)
        {
            int h = payload[7 + 3 * c] >> 4, v = payload[7 + 3 * c] & 15;
            maxH = Math.Max(maxH, h);
            maxV = Math.Max(maxV, v);
            blocks += h * v;
            factors.Add($"{h}×{v}");
        }
        if (blocks > 10)
        {
            throw ImageRefusals.Malformed("JPEG", $"its sampling factors ({string.Join(", ", factors)}) make a unit of {blocks} blocks; JPEG allows at most 10");
        }
        for (var c = 0; c < components; c++)
        {
            int h = payload[7 + 3 * c] >> 4, v = payload[7 + 3 * c] & 15;
            if (maxH % h != 0 || maxV % v != 0)
            {
                throw ImageRefusals.Unsupported($"a JPEG whose sampling factors ({string.Join(", ", factors)}) are not whole multiples of each other (fractional upsampling, which libjpeg-turbo does not implement)");
            }
        }
    }

    private static void MarkQuantTables(byte[] payload, bool[] defined)
    {
        var position = 0;
        while (position < payload.Length)
        {
            int precisionAndId = payload[position];
            int id = precisionAndId & 15;
            var size = 1 + ((precisionAndId >> 4) == 0 ? 64 : 128);
            if (id > 3 || position + size > payload.Length)
            {
                throw ImageRefusals.Malformed("JPEG", $"its quantization table segment is damaged (table {id}, {payload.Length - position} bytes left)");
            }
            defined[id] = true;
            position += size;
        }
    }

    // ---------------------------------------------------------------- WebP

    private async ValueTask<ContainerFacts> WalkWebpAsync()
    {
        const string webp = "WebP";
        if (!await _source.EnsureAsync(12, _cancellationToken).ConfigureAwait(false)
            || !_source.Peek(4).SequenceEqual("RIFF"u8) || !_source.Peek(12)[8..].SequenceEqual("WEBP"u8))
        {
            throw ImageRefusals.NotDecodable("the WebP does not start with a RIFF/WEBP header");
        }
        var riffEnd = 8L + BinaryPrimitives.ReadUInt32LittleEndian(_source.Peek(8)[4..]);
        _source.Advance(12);
        if (riffEnd > _limits.MaxBytes)
        {
            throw ImageRefusals.TooManyBytes(riffEnd, _limits.MaxBytes, complete: false);
        }
        (int Width, int Height)? canvas = null;
        (int Width, int Height)? image = null;
        var hasAlpha = false;
        var headerSaysAlpha = false;
        var hasAlphaChunk = false;
        byte[]? exif = null;
        var first = true;
        while (_source.Position < riffEnd)
        {
            var chunkStart = _source.Position;
            if (chunkStart + 8 > riffEnd || !await _source.EnsureAsync(8, _cancellationToken).ConfigureAwait(false))
            {
                throw ImageRefusals.Truncated(webp, _source.BytesRead, chunkStart + 8 > riffEnd ? $"with a partial chunk header, while its RIFF header declares {riffEnd} bytes" : $"inside a chunk header, while its RIFF header declares {riffEnd} bytes");
            }
            var fourCc = Encoding.ASCII.GetString(_source.Peek(4));
            var size = BinaryPrimitives.ReadUInt32LittleEndian(_source.Peek(8)[4..]);
            _source.Advance(8);
            var padded = size + (size & 1);
            if (chunkStart + 8 + size > riffEnd)
            {
                throw ImageRefusals.Truncated(webp, Math.Max(_source.BytesRead, riffEnd), $"inside chunk {fourCc} which needs {chunkStart + 8 + size - riffEnd} more bytes");
            }
            if (first && fourCc is not ("VP8 " or "VP8L" or "VP8X"))
            {
                throw ImageRefusals.Malformed(webp, $"its first chunk is {fourCc.TrimEnd()}, not an image or VP8X header");
            }
            first = false;
            byte[]? data = null;
            switch (fourCc)
            {
                case "VP8X":
                    if (chunkStart != 12)
                    {
                        throw ImageRefusals.Malformed(webp, $"it has a second VP8X header at offset {chunkStart}");
                    }
                    data = await ReadWebpChunkAsync(fourCc, size, 10).ConfigureAwait(false);
                    if ((data[0] & 0x02) != 0)
                    {
                        throw ImageRefusals.Animated(webp, "its VP8X header sets the animation flag");
                    }
                    headerSaysAlpha = (data[0] & 0x10) != 0;
                    hasAlpha |= headerSaysAlpha;
                    canvas = (1 + (data[4] | data[5] << 8 | data[6] << 16), 1 + (data[7] | data[8] << 8 | data[9] << 16));
                    HeaderFound?.Invoke(canvas.Value.Width, canvas.Value.Height);
                    break;
                case "ANIM" or "ANMF":
                    throw ImageRefusals.Animated(webp, $"it has an {fourCc} chunk");
                case "ALPH":
                    hasAlpha = true;
                    hasAlphaChunk = true;
                    break;
                case "VP8 " or "VP8L":
                    if (image is not null)
                    {
                        throw ImageRefusals.Malformed(webp, $"it has a second image chunk ({fourCc.TrimEnd()}) at offset {chunkStart}");
                    }
                    data = await ReadWebpChunkAsync(fourCc, size, fourCc == "VP8L" ? 5 : 10).ConfigureAwait(false);
                    if (fourCc == "VP8L")
                    {
                        var (w, h, alpha) = ParseVp8L(data);
                        image = (w, h);
                        hasAlpha |= alpha;
                    }
                    else
                    {
                        image = ParseVp8(data, size);
                    }
                    HeaderFound?.Invoke(image.Value.Width, image.Value.Height);
                    break;
                case "EXIF":
                    if (size <= MaxExifBytes)
                    {
                        data = await ReadWebpChunkAsync(fourCc, size, (int)size).ConfigureAwait(false);
                        exif ??= data;
                    }
                    break;
            }
            var consumed = data?.Length ?? 0;
            var rest = padded - consumed;
            if (_source.Position + rest > riffEnd)
            {
                rest = riffEnd - _source.Position; // the last chunk's padding byte may lie beyond the RIFF size
            }
            var skipped = await _source.SkipAsync(rest, null, _cancellationToken).ConfigureAwait(false);
            if (skipped < rest)
            {
                throw ImageRefusals.Truncated(webp, _source.BytesRead, $"inside chunk {fourCc.TrimEnd()} which needs {rest - skipped} more bytes, while its RIFF header declares {riffEnd} bytes");
            }
        }
        if (image is null)
        {
            throw ImageRefusals.Malformed(webp, "it has no image chunk (VP8 or VP8L)");
        }
        if (canvas is not null && hasAlphaChunk && !headerSaysAlpha)
        {
            // libwebp (dwebp, OpenCV) uses the alpha chunk anyway; SkiaSharp follows the flag and decodes the image
            // opaque: transparent parts came out as whatever colour lies under them. Which is meant, the file cannot say.
            throw ImageRefusals.Malformed(webp, "its VP8X header says the image has no alpha, but it has an alpha (ALPH) chunk");
        }
        if (canvas is not null && canvas != image)
        {
            throw ImageRefusals.Malformed(webp,
                $"its VP8X canvas is {canvas.Value.Width}×{canvas.Value.Height} but its image is {image.Value.Width}×{image.Value.Height}");
        }
        return new ContainerFacts(ImageFileFormat.Webp, image.Value.Width, image.Value.Height, 8, hasAlpha, false, exif, 0);
    }

    /// <summary>Reads the first <paramref name="needed"/> bytes of a chunk's data (the rest is skipped by the caller).</summary>
    private async ValueTask<byte[]> ReadWebpChunkAsync(string fourCc, uint size, int needed)
    {
        if (size < needed)
        {
            throw ImageRefusals.Malformed("WebP", $"its {fourCc.TrimEnd()} chunk is {size} bytes, too short for its header");
        }
        return await _source.ReadAsync(needed, null, _cancellationToken).ConfigureAwait(false)
            ?? throw ImageRefusals.Truncated("WebP", _source.BytesRead, $"inside chunk {fourCc.TrimEnd()}");
    }

    private static (int, int) ParseVp8(byte[] data, uint chunkSize)
    {
        var tag = data[0] | data[1] << 8 | data[2] << 16;
        if ((tag & 1) != 0)
        {
            throw ImageRefusals.Malformed("WebP", "its VP8 frame is not a key frame");
        }
        var firstPartition = (uint)(tag >> 5) & 0x7FFFF;
        if (data[3] != 0x9D || data[4] != 0x01 || data[5] != 0x2A)
        {
            throw ImageRefusals.Malformed("WebP", "its VP8 frame has no start code");
        }
        if (10 + firstPartition > chunkSize)
        {
            throw ImageRefusals.Truncated("WebP", chunkSize, $"inside the VP8 frame's first partition, which needs {10 + firstPartition - chunkSize} more bytes");
        }
        var width = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(6)) & 0x3FFF;
        var height = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(8)) & 0x3FFF;
        if (width == 0 || height == 0)
        {
            throw ImageRefusals.Malformed("WebP", $"its VP8 frame gives an impossible size {width}×{height}");
        }
        return (width, height);
    }

    private static (int, int, bool) ParseVp8L(byte[] data)
    {
        if (data[0] != 0x2F)
        {
            throw ImageRefusals.Malformed("WebP", "its VP8L image has no signature");
        }
        var bits = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(1));
        var width = (int)(bits & 0x3FFF) + 1;
        var height = (int)((bits >> 14) & 0x3FFF) + 1;
        var alpha = ((bits >> 28) & 1) != 0;
        if ((bits >> 29) != 0)
        {
            throw ImageRefusals.Malformed("WebP", $"its VP8L image has version {bits >> 29}; only 0 exists");
        }
        return (width, height, alpha);
    }
}
