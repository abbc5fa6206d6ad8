using System.Buffers.Binary;

namespace CodeFormer.Engine.Video;

/// <summary>
/// Counts the tracks (streams) a container declares by walking its box, element or chunk headers, without ffmpeg: ffprobe
/// and ffmpeg open a decoder for every stream before they report anything (1,000 tracks in a 2 MB Matroska file cost
/// ffprobe 38 s and ffmpeg 1.6 GB here), so the count must be known before either runs. Only headers are read, and at
/// most <see cref="MaxHeaders"/> of them; null when the walk cannot tell (ffprobe then judges the file).
/// </summary>
internal static class ContainerTrackCount
{
    private const int MaxHeaders = 100_000;

    public static int? Count(Stream file, string demuxer) => demuxer switch
    {
        "mov" => CountIsoTracks(file),
        "matroska" => CountMatroskaTracks(file),
        "avi" => CountAviStreams(file),
        _ => null,
    };

    /// <summary>MP4/MOV: the 'trak' boxes inside the top-level 'moov' box.</summary>
    private static int? CountIsoTracks(Stream file)
    {
        long position = 0, end = file.Length;
        for (int walked = 0; walked < MaxHeaders && position + 8 <= end; walked++)
        {
            if (!TryReadIsoBox(file, position, end, out string type, out long bodyStart, out long boxEnd))
            {
                return null;
            }
            if (type == "moov")
            {
                int tracks = 0;
                for (long child = bodyStart; child + 8 <= boxEnd && walked < MaxHeaders; walked++)
                {
                    if (!TryReadIsoBox(file, child, boxEnd, out string childType, out _, out long childEnd))
                    {
                        return null;
                    }
                    tracks += childType == "trak" ? 1 : 0;
                    child = childEnd;
                }
                return tracks;
            }
            position = boxEnd;
        }
        return null;
    }

    private static bool TryReadIsoBox(Stream file, long position, long limit, out string type, out long bodyStart, out long boxEnd)
    {
        Span<byte> header = stackalloc byte[16];
        type = "";
        bodyStart = boxEnd = 0;
        file.Position = position;
        if (file.ReadAtLeast(header[..8], 8, throwOnEndOfStream: false) < 8)
        {
            return false;
        }
        long size = BinaryPrimitives.ReadUInt32BigEndian(header);
        type = System.Text.Encoding.ASCII.GetString(header[4..8]);
        bodyStart = position + 8;
        if (size == 1)
        {
            if (file.ReadAtLeast(header[8..16], 8, throwOnEndOfStream: false) < 8)
            {
                return false;
            }
            ulong large = BinaryPrimitives.ReadUInt64BigEndian(header[8..]);
            size = large > long.MaxValue ? -1 : (long)large;
            bodyStart += 8;
        }
        else if (size == 0)
        {
            size = limit - position;
        }
        if (size < bodyStart - position || size > limit - position)
        {
            return false;
        }
        boxEnd = position + size;
        return true;
    }

    private const long EbmlHeaderId = 0x1A45DFA3, SegmentId = 0x18538067, TracksId = 0x1654AE6B, TrackEntryId = 0xAE, ClusterId = 0x1F43B675;

    /// <summary>Matroska/WebM: the TrackEntry elements of the Segment's Tracks element (which muxers write before any Cluster).</summary>
    private static int? CountMatroskaTracks(Stream file)
    {
        file.Position = 0;
        using var reader = new BufferedStream(file, 4096);
        long end = file.Length;
        if (!TryReadElement(reader, end, out long id, out long size) || id != EbmlHeaderId || size < 0)
        {
            return null;
        }
        reader.Seek(size, SeekOrigin.Current);
        if (!TryReadElement(reader, end, out id, out long segmentSize) || id != SegmentId)
        {
            return null;
        }
        long segmentEnd = segmentSize < 0 ? end : Math.Min(end, reader.Position + segmentSize);
        for (int walked = 0; walked < MaxHeaders && reader.Position < segmentEnd; walked++)
        {
            if (!TryReadElement(reader, segmentEnd, out id, out size) || id == ClusterId || size < 0)
            {
                return null;
            }
            if (id != TracksId)
            {
                reader.Seek(size, SeekOrigin.Current);
                continue;
            }
            long tracksEnd = Math.Min(segmentEnd, reader.Position + size);
            int tracks = 0;
            for (; walked < MaxHeaders && reader.Position < tracksEnd; walked++)
            {
                if (!TryReadElement(reader, tracksEnd, out long childId, out long childSize) || childSize < 0)
                {
                    return null;
                }
                tracks += childId == TrackEntryId ? 1 : 0;
                reader.Seek(childSize, SeekOrigin.Current);
            }
            return tracks;
        }
        return null;
    }

    /// <summary>An EBML element header: its ID (marker bit kept, as IDs are written) and its size (-1 when unknown).</summary>
    private static bool TryReadElement(Stream stream, long limit, out long id, out long size)
    {
        size = -1;
        if (!TryReadVint(stream, keepMarker: true, out id, out _) || !TryReadVint(stream, keepMarker: false, out size, out bool unknown))
        {
            return false;
        }
        if (unknown)
        {
            size = -1;
            return true;
        }
        return size <= limit - stream.Position;
    }

    private static bool TryReadVint(Stream stream, bool keepMarker, out long value, out bool allOnes)
    {
        value = 0;
        allOnes = false;
        int first = stream.ReadByte();
        if (first <= 0)
        {
            return false;
        }
        int length = System.Numerics.BitOperations.LeadingZeroCount((uint)first) - 24 + 1;
        long marker = 1L << (7 * length);
        value = keepMarker ? first : first & ((1 << (8 - length)) - 1);
        for (int i = 1; i < length; i++)
        {
            int next = stream.ReadByte();
            if (next < 0)
            {
                return false;
            }
            value = (value << 8) | (uint)next;
        }
        allOnes = !keepMarker && value == marker - 1;
        return true;
    }

    /// <summary>AVI: the 'strl' lists inside the 'hdrl' list, one per stream.</summary>
    private static int? CountAviStreams(Stream file)
    {
        Span<byte> header = stackalloc byte[12];
        long end = file.Length;
        file.Position = 12;
        if (file.ReadAtLeast(header, 12, throwOnEndOfStream: false) < 12 || !header[..4].SequenceEqual("LIST"u8) || !header[8..12].SequenceEqual("hdrl"u8))
        {
            return null;
        }
        long listEnd = Math.Min(end, 20 + (long)BinaryPrimitives.ReadUInt32LittleEndian(header[4..8]));
        long position = 24;
        int streams = 0;
        for (int walked = 0; walked < MaxHeaders && position + 8 <= listEnd; walked++)
        {
            file.Position = position;
            if (file.ReadAtLeast(header, 12, throwOnEndOfStream: false) < 8)
            {
                return null;
            }
            long chunkSize = BinaryPrimitives.ReadUInt32LittleEndian(header[4..8]);
            streams += header[..4].SequenceEqual("LIST"u8) && header[8..12].SequenceEqual("strl"u8) ? 1 : 0;
            position += 8 + chunkSize + (chunkSize & 1);
        }
        return streams;
    }
}
