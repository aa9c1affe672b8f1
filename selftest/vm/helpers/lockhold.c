/*
 * lockhold: hold an fcntl byte-range lock on a file (on a cifs mount in the
 * samba-ca client VM) and keep writing a known pattern under it, across
 * server outages and reconnects; at the end verify the file holds exactly
 * what was written.
 *
 * usage: lockhold [options] FILE
 *   -o OFFSET    lock range start (default 0)
 *   -l LENGTH    lock range length (default 1048576; 0 = to EOF and beyond)
 *   -b BLOCK     bytes per write (default 65536)
 *   -n COUNT     number of writes (default 16); block i goes to OFFSET+i*BLOCK
 *                modulo the lock range when the range is non-zero
 *   -i MSEC      pause between writes (default 500)
 *   -r SEC       keep retrying a failed write/fsync for this long (default 120)
 *   -H SEC       hold the lock this long after the last write (default 0)
 *   -w FILE      wait until FILE exists before starting to write (a start gate)
 *   -t           only try the lock: print "lock granted" or "lock refused"
 *                and exit 0 / 1 (no writing)
 *
 * Output: one line per event, "lockhold: ..." (progress, retries, result).
 * Exit: 0 all writes done and verified; 1 lock refused; 2 usage/open error;
 *       3 a write did not succeed within the retry time; 4 verify mismatch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void say(const char *fmt, ...)
{
	va_list ap;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("lockhold[%ld.%03ld]: ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Block i: every byte derived from (i, position), so a misplaced or stale
 * block is detected, not just a missing one. */
static void fill(unsigned char *buf, size_t len, unsigned long i)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = (unsigned char)((i * 131u) ^ (k * 7u) ^ (k >> 8) ^ 0x5a);
}

static long long num(const char *s, const char *what)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < 0) {
		fprintf(stderr, "lockhold: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static int take_lock(int fd, off_t off, off_t len)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = off;
	fl.l_len = len;
	return fcntl(fd, F_SETLK, &fl);
}

/* Retry op until it succeeds or the retry time is over. */
static int write_block(int fd, const unsigned char *buf, size_t len, off_t at,
		       unsigned long i, double retry)
{
	double until = now() + retry;
	int tries = 0;

	for (;;) {
		ssize_t n = pwrite(fd, buf, len, at);
		int err = errno;

		if (n == (ssize_t)len) {
			if (fsync(fd) == 0) {
				if (tries > 0)
					say("write %lu ok after %d retries", i, tries);
				return 0;
			}
			err = errno;
			say("fsync after write %lu: %s", i, strerror(err));
		} else if (n >= 0) {
			say("write %lu: short write %zd of %zu", i, n, len);
		} else {
			say("write %lu at %lld: %s", i, (long long)at, strerror(err));
		}
		if (now() >= until)
			return -1;
		tries++;
		msleep(500);
	}
}

int main(int argc, char **argv)
{
	off_t off = 0, range = 1048576;
	size_t block = 65536;
	unsigned long count = 16;
	long interval = 500, hold = 0;
	double retry = 120;
	const char *gate = NULL;
	int try_only = 0, opt, fd, rc = 0;
	unsigned char *buf, *rbuf;
	unsigned long nslots, i;

	while ((opt = getopt(argc, argv, "o:l:b:n:i:r:H:w:t")) != -1) {
		switch (opt) {
		case 'o': off = num(optarg, "offset"); break;
		case 'l': range = num(optarg, "length"); break;
		case 'b': block = num(optarg, "block"); break;
		case 'n': count = num(optarg, "count"); break;
		case 'i': interval = num(optarg, "interval"); break;
		case 'r': retry = num(optarg, "retry"); break;
		case 'H': hold = num(optarg, "hold"); break;
		case 'w': gate = optarg; break;
		case 't': try_only = 1; break;
		default:
			fprintf(stderr, "usage: lockhold [-o off] [-l len] [-b block] [-n count] "
					"[-i msec] [-r sec] [-H sec] [-w gatefile] [-t] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1 || block == 0) {
		fprintf(stderr, "lockhold: one FILE and a non-zero block size wanted\n");
		return 2;
	}
	if (range != 0 && (off_t)block > range) {
		fprintf(stderr, "lockhold: block larger than the lock range\n");
		return 2;
	}
	nslots = range ? (unsigned long)(range / block) : count;
	if (nslots > count)
		nslots = count;

	fd = open(argv[optind], O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		say("open %s: %s", argv[optind], strerror(errno));
		return 2;
	}
	if (take_lock(fd, off, range) != 0) {
		say("lock refused on %s [%lld, +%lld): %s", argv[optind], (long long)off,
		    (long long)range, strerror(errno));
		return 1;
	}
	say("lock granted on %s [%lld, +%lld)", argv[optind], (long long)off, (long long)range);
	if (try_only)
		return 0;

	if (gate) {
		say("waiting for %s", gate);
		while (access(gate, F_OK) != 0)
			msleep(100);
	}

	buf = malloc(block);
	rbuf = malloc(block);
	if (!buf || !rbuf)
		return 2;

	for (i = 0; i < count; i++) {
		unsigned long slot = nslots ? i % nslots : i;
		off_t at = off + (off_t)slot * (off_t)block;

		fill(buf, block, i);
		if (write_block(fd, buf, block, at, i, retry) != 0) {
			say("FAIL: write %lu did not succeed within %.0f s", i, retry);
			return 3;
		}
		say("wrote %lu/%lu at %lld", i + 1, count, (long long)at);
		if (interval && i + 1 < count)
			msleep(interval);
	}
	if (hold) {
		say("holding the lock for %ld s", hold);
		msleep(hold * 1000);
	}

	/* Verify: each slot holds the last block written to it, read back from
	 * the server rather than the page cache where possible. */
	{
		int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);

		if (dc >= 0) {
			if (write(dc, "3\n", 2) != 2)
				say("drop_caches: %s", strerror(errno));
			close(dc);
		}
	}
	for (unsigned long s = 0; s < (nslots ? nslots : count); s++) {
		unsigned long last = s;
		off_t at = off + (off_t)s * (off_t)block;
		ssize_t n;

		if (nslots)
			while (last + nslots < count)
				last += nslots;
		if (last >= count)
			continue;
		fill(buf, block, last);
		n = pread(fd, rbuf, block, at);
		if (n != (ssize_t)block || memcmp(buf, rbuf, block) != 0) {
			say("FAIL: verify slot %lu at %lld: %s", s, (long long)at,
			    n < 0 ? strerror(errno) : "content differs");
			rc = 4;
		}
	}
	if (rc == 0)
		say("OK: %lu writes of %zu bytes verified", count, block);
	close(fd);
	return rc;
}
