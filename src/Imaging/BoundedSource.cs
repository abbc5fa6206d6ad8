namespace CodeFormer.Imaging;

/// <summary>
/// Sequential reads from an untrusted stream through one fixed buffer, counting every byte against MaxBytes as it
/// arrives. Why: an upload (or a symlink to /dev/zero) must be refused when it passes the limit, not after it has been
/// read whole into memory; and validating a 50 MB upload should cost 64 KB, not 50 MB.
/// </summary>
internal sealed class BoundedSource
{
    private const int BufferSize = 64 * 1024;
    private readonly Stream _stream;
    private readonly long _maxBytes;
    private readonly byte[] _buffer = new byte[BufferSize];
    private int _start;
    private int _end;
    private long _bufferOffset;
    private bool _endOfStream;

    public BoundedSource(Stream stream, long maxBytes)
    {
        _stream = stream;
        _maxBytes = maxBytes;
    }

    /// <summary>Offset of the next unread byte from the start of the stream.</summary>
    public long Position => _bufferOffset + _start;

    /// <summary>Bytes read from the stream so far (at least <see cref="Position"/>).</summary>
    public long BytesRead => _bufferOffset + _end;

    public int Buffered => _end - _start;

    /// <summary>Makes at least <paramref name="count"/> bytes (at most 64 KB) available; false when the stream ends first.</summary>
    public async ValueTask<bool> EnsureAsync(int count, CancellationToken cancellationToken)
    {
        if (count > BufferSize)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"At most {BufferSize} bytes can be buffered.");
        }
        if (_end - _start >= count)
        {
            return true;
        }
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _bufferOffset += _start;
            _end -= _start;
            _start = 0;
        }
        while (_end < count && !_endOfStream)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end, BufferSize - _end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                _endOfStream = true;
                break;
            }
            _end += read;
            if (BytesRead > _maxBytes)
            {
                throw ImageRefusals.TooManyBytes(BytesRead, _maxBytes, complete: false);
            }
        }
        return _end - _start >= count;
    }

    public ReadOnlySpan<byte> Peek(int count) => _buffer.AsSpan(_start, count);

    public ReadOnlySpan<byte> PeekBuffered() => _buffer.AsSpan(_start, _end - _start);

    public void Advance(int count)
    {
        if (count < 0 || count > _end - _start)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        _start += count;
    }

    /// <summary>
    /// Consumes <paramref name="count"/> bytes, showing each piece to <paramref name="observe"/> (a checksum); returns how
    /// many were there before the stream ended.
    /// </summary>
    public async ValueTask<long> SkipAsync(long count, Action<ReadOnlySpan<byte>>? observe, CancellationToken cancellationToken)
    {
        long skipped = 0;
        while (skipped < count)
        {
            if (_end == _start && !await EnsureAsync(1, cancellationToken).ConfigureAwait(false))
            {
                break;
            }
            var piece = (int)Math.Min(count - skipped, _end - _start);
            observe?.Invoke(_buffer.AsSpan(_start, piece));
            _start += piece;
            skipped += piece;
        }
        return skipped;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes into a new array (the caller bounds the count), or null at the end.</summary>
    public async ValueTask<byte[]?> ReadAsync(int count, Action<ReadOnlySpan<byte>>? observe, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_end == _start && !await EnsureAsync(1, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
            var piece = Math.Min(count - filled, _end - _start);
            _buffer.AsSpan(_start, piece).CopyTo(result.AsSpan(filled));
            observe?.Invoke(result.AsSpan(filled, piece));
            _start += piece;
            filled += piece;
        }
        return result;
    }

    /// <summary>Reads to the end of the stream (trailing data after the image), still counting against MaxBytes.</summary>
    public async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        while (await EnsureAsync(1, cancellationToken).ConfigureAwait(false))
        {
            _start = _end;
        }
    }
}
