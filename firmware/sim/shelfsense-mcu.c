/*
 * shelfsense-mcu: runs a shelf firmware ELF (the very file that would be flashed) on simavr, with
 * HX711 load-cell ADCs on its pins, UART0 bridged to stdin/stdout and raw counts fed on fd 3.
 * Its interface is in firmware/sim/README.md; --help sums it up.
 *
 * Single-threaded: the simulation loop polls stdin and the feed without blocking every TICK_CYCLES
 * simulated cycles, paces simulated time against the wall clock, and blocks on the feed only when
 * an HX711 conversion needs a value that has not been written yet.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <avr_adc.h>
#include <avr_eeprom.h>
#include <avr_ioport.h>
#include <avr_uart.h>
#include <sim_avr.h>
#include <sim_elf.h>

#include "feed.h"
#include "hx711.h"
#include "report.h"
#include "uart_bridge.h"

#define MAX_CHANNELS 16
#ifndef TICK_CYCLES
#define TICK_CYCLES 512			/* I/O is serviced at least this often (simulated) */
#endif
#define FLUSH_AGE_NS 2000000ull		/* a partial output line waits at most 2 ms */
#define PACE_SLEEP_MIN_NS 500000ull	/* sleep once this far ahead of the wall clock */
#define PACE_MAX_LAG_NS 250000000ull	/* further behind than this: stop trying to catch up */
#define FEED_WAIT_REPORT_MS 50		/* a feed wait this long is reported (feed-wait event) */

static const char USAGE[] =
	"Usage: shelfsense-mcu --elf FILE --mcu atmega2560|atmega328p --channels N [options]\n"
	"\n"
	"Runs a shelf firmware ELF on simavr with HX711 load-cell ADCs attached to its pins.\n"
	"\n"
	"  --elf FILE          the firmware ELF (what would be flashed)\n"
	"  --mcu NAME          atmega328p (Uno/Nano) or atmega2560 (Mega 2560)\n"
	"  --freq HZ           CPU clock, must match the firmware's F_CPU (default 16000000)\n"
	"  --channels N        HX711 chips, 1..16 (the default pin maps have 4 and 8 DOUT pins)\n"
	"  --eeprom FILE       EEPROM image: loaded at start if it exists (else blank 0xFF), saved\n"
	"                      on exit and on every MCU reset\n"
	"  --speed X           1 = simulated time follows the wall clock (default), N = N times\n"
	"                      faster, 0 = as fast as the host runs\n"
	"  --sck PIN           HX711 PD_SCK (default PD2 on atmega328p, PA0 on atmega2560)\n"
	"  --rate PIN          HX711 RATE (default PD3 / PA1)\n"
	"  --dout PIN,PIN,...  one DOUT per channel (default PD4..PD7 / PA2..PA7,PC7,PC6)\n"
	"  --dead K[,K...]     channel K's chip is missing: its DOUT stays high\n"
	"  --temp-c C          the die's temperature, -55..125 °C, as the atmega328p's own sensor\n"
	"                      reads it on ADC channel 8 (default: none, the ADC reads 0)\n"
	"  --help              this text\n"
	"PIN is P<port><bit>, e.g. PA0.\n"
	"\n"
	"UART0: what the MCU sends goes to stdout; stdin goes to the MCU (EOF on stdin is fine).\n"
	"fd 3 (optional): raw counts, lines \"<us> <raw0> ... <rawN-1> [T<centi-°C>]\", us = simulated µs since\n"
	"start, not decreasing; a conversion at time t takes the latest line with us <= t (the\n"
	"simulation waits for the feed when it needs a line not written yet; after EOF the last\n"
	"line holds). Without fd 3 every raw is 0.\n"
	"HX711: a conversion every 12.5 ms (RATE high) or 100 ms (RATE low or floating), 24 bits\n"
	"MSB first on SCK rising edges, 25th pulse = A/128 (26/27 count as gain errors), SCK high\n"
	">= 60 µs powers down, SCK low again resets (first conversion one period later).\n"
	"Signals: SIGUSR1 reboots the MCU (RAM cleared, EEPROM kept); SIGTERM/SIGINT (and the\n"
	"parent process exiting, or stdout closing) save the EEPROM and exit 0.\n"
	"stderr: JSON lines: {\"event\":\"ready\",...} at start, {\"event\":\"reset\",...} per MCU reset,\n"
	"{\"event\":\"feed-wait\",\"simUs\":T} when a conversion at T has waited 50 ms for the feed,\n"
	"{\"event\":\"error\",...} on errors, {\"event\":\"exit\",...} with statistics at exit.\n"
	"Exit status: 0 on a signal, 2 on bad usage (flags, ELF, feed), 1 if the MCU crashed.\n";

typedef struct options {
	const char *elf;
	const char *mcu;
	uint32_t freq;
	int channels;
	const char *eeprom;
	double speed;
	hx711_pin_t sck, rate, dout[MAX_CHANNELS];
	int have_sck, have_rate, ndout;
	uint8_t dead[MAX_CHANNELS];
	int ndead;
	int have_temp;
	double temp_c;
} options_t;

/* ---- state (one simulation per process) ---- */
static options_t opt;
static avr_t *avr;
static hx711_bank_t bank;
static uart_bridge_t ub;
static feed_t feed;
static int stdin_eof;
static int started;
static uint64_t resets;
static void (*core_reset)(avr_t *);
static const char *reset_reason;
static uint64_t pace_anchor_ns;
static avr_cycle_count_t pace_anchor_cycle;
static volatile sig_atomic_t sig_quit, sig_reboot;

/* ---- small helpers ---- */
static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t sim_us(void)
{
	uint64_t f = avr->frequency, c = avr->cycle;
	return (c / f) * 1000000 + ((c % f) * 1000000) / f;
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	report_error("usage", "%s (see --help)", msg);
	exit(2);
}

/* ---- flags ---- */
static int parse_pin(const char *s, hx711_pin_t *p)
{
	if ((s[0] != 'P' && s[0] != 'p') || !s[1] || s[2] < '0' || s[2] > '7' || s[3])
		return -1;
	char port = (char)(s[1] >= 'a' && s[1] <= 'z' ? s[1] - 32 : s[1]);
	if (port < 'A' || port > 'L')
		return -1;
	memset(p, 0, sizeof *p);
	p->port = port;
	p->bit = (uint8_t)(s[2] - '0');
	return 0;
}

static const char *pin_name(const hx711_pin_t *p)
{
	static char names[4][8];
	static int i;
	char *n = names[i++ & 3];
	snprintf(n, 8, "P%c%d", p->port, p->bit);
	return n;
}

static int same_pin(const hx711_pin_t *a, const hx711_pin_t *b)
{
	return a->port == b->port && a->bit == b->bit;
}

static long parse_long(const char *flag, const char *v, long lo, long hi, const char *what)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		usage_error("%s %s: expected %s, an integer from %ld to %ld", flag, v, what, lo, hi);
	return n;
}

static void parse_args(int argc, char **argv)
{
	memset(&opt, 0, sizeof opt);
	opt.freq = 16000000;
	opt.speed = 1;
	int have_freq = 0, have_speed = 0, have_channels = 0, have_dead = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			fputs(USAGE, stdout);
			exit(0);
		}
		if (strncmp(arg, "--", 2) != 0)
			usage_error("unexpected argument \"%s\": every option is a --flag VALUE pair", arg);
		char flag[64];
		const char *val;
		const char *eq = strchr(arg, '=');
		if (eq) {
			snprintf(flag, sizeof flag, "%.*s", (int)(eq - arg), arg);
			val = eq + 1;
		} else {
			snprintf(flag, sizeof flag, "%s", arg);
			val = NULL;
		}
		static const char *known[] = { "--elf", "--mcu", "--freq", "--channels", "--eeprom", "--speed",
			"--sck", "--rate", "--dout", "--dead", "--temp-c", NULL };
		int k = 0;
		while (known[k] && strcmp(known[k], flag))
			k++;
		if (!known[k])
			usage_error("unknown flag %s: the flags are --elf, --mcu, --freq, --channels, --eeprom, "
				"--speed, --sck, --rate, --dout, --dead, --temp-c", flag);
		if (!val) {
			if (i + 1 >= argc)
				usage_error("%s needs a value", flag);
			val = argv[++i];
		}

		if (!strcmp(flag, "--elf")) {
			if (opt.elf)
				usage_error("--elf given twice");
			if (!*val)
				usage_error("--elf needs a file name: the firmware ELF to run");
			opt.elf = val;
		} else if (!strcmp(flag, "--mcu")) {
			if (opt.mcu)
				usage_error("--mcu given twice");
			if (strcmp(val, "atmega328p") && strcmp(val, "atmega2560"))
				usage_error("--mcu %s: unsupported MCU; use atmega328p (Uno/Nano) or atmega2560 (Mega 2560)",
					val);
			opt.mcu = val;
		} else if (!strcmp(flag, "--freq")) {
			if (have_freq++)
				usage_error("--freq given twice");
			opt.freq = (uint32_t)parse_long("--freq", val, 1000, 100000000, "the CPU clock in Hz");
		} else if (!strcmp(flag, "--channels")) {
			if (have_channels++)
				usage_error("--channels given twice");
			opt.channels = (int)parse_long("--channels", val, 1, MAX_CHANNELS, "the number of HX711 chips");
		} else if (!strcmp(flag, "--eeprom")) {
			if (opt.eeprom)
				usage_error("--eeprom given twice");
			if (!*val)
				usage_error("--eeprom needs a file name");
			opt.eeprom = val;
		} else if (!strcmp(flag, "--speed")) {
			if (have_speed++)
				usage_error("--speed given twice");
			char *end;
			errno = 0;
			double s = strtod(val, &end);
			if (errno || end == val || *end || !isfinite(s) || s < 0 || s > 1e6)
				usage_error("--speed %s: expected a number >= 0 (1 = wall-clock time, 0 = as fast as "
					"possible)", val);
			opt.speed = s;
		} else if (!strcmp(flag, "--sck") || !strcmp(flag, "--rate")) {
			int sck = !strcmp(flag, "--sck");
			if (sck ? opt.have_sck++ : opt.have_rate++)
				usage_error("%s given twice", flag);
			if (parse_pin(val, sck ? &opt.sck : &opt.rate) < 0)
				usage_error("%s %s: expected a pin like PA0 (P, the port letter A-L, the bit 0-7)", flag, val);
		} else if (!strcmp(flag, "--dout")) {
			if (opt.ndout)
				usage_error("--dout given twice");
			char copy[512];
			snprintf(copy, sizeof copy, "%s", val);
			char *save = NULL;
			for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (opt.ndout == MAX_CHANNELS)
					usage_error("--dout: more than %d pins", MAX_CHANNELS);
				if (parse_pin(tok, &opt.dout[opt.ndout]) < 0)
					usage_error("--dout %s: \"%s\" is not a pin like PA2 (P, the port letter A-L, the bit "
						"0-7); list one per channel, separated by commas", val, tok);
				opt.ndout++;
			}
			if (!opt.ndout)
				usage_error("--dout needs at least one pin");
		} else if (!strcmp(flag, "--temp-c")) {
			if (opt.have_temp++)
				usage_error("--temp-c given twice");
			char *end = NULL;
			opt.temp_c = strtod(val, &end);
			if (end == val || *end || !(opt.temp_c >= -55 && opt.temp_c <= 125))
				usage_error("--temp-c %s: a temperature from -55 to 125 (°C), e.g. --temp-c 23.5", val);
		} else if (!strcmp(flag, "--dead")) {
			if (have_dead++)
				usage_error("--dead given twice");
			char copy[512];
			snprintf(copy, sizeof copy, "%s", val);
			char *save = NULL;
			int any = 0;
			for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				long k = parse_long("--dead", tok, 0, MAX_CHANNELS - 1, "a channel number");
				opt.dead[k] = 1;
				any = 1;
			}
			if (!any)
				usage_error("--dead needs channel numbers, e.g. --dead 1 or --dead 0,3");
		}
	}

	if (!opt.elf)
		usage_error("--elf is required: the firmware ELF to run");
	if (!opt.mcu)
		usage_error("--mcu is required: atmega328p or atmega2560");
	if (!have_channels)
		usage_error("--channels is required: the number of HX711 chips (e.g. 4)");
	if (opt.have_temp && strcmp(opt.mcu, "atmega328p"))
		usage_error("--temp-c: the %s has no temperature sensor (the atmega328p has)", opt.mcu);

	/* The firmware's default pin maps (docs/firmware.md). */
	int mega = !strcmp(opt.mcu, "atmega2560");
	static const char *uno_dout[] = { "PD4", "PD5", "PD6", "PD7" };
	static const char *mega_dout[] = { "PA2", "PA3", "PA4", "PA5", "PA6", "PA7", "PC7", "PC6" };
	if (!opt.have_sck)
		parse_pin(mega ? "PA0" : "PD2", &opt.sck);
	if (!opt.have_rate)
		parse_pin(mega ? "PA1" : "PD3", &opt.rate);
	if (!opt.ndout) {
		int avail = mega ? 8 : 4;
		if (opt.channels > avail)
			usage_error("--channels %d: the %s default map has %d DOUT pins; list %d with --dout", opt.channels,
				opt.mcu, avail, opt.channels);
		for (int c = 0; c < opt.channels; c++)
			parse_pin(mega ? mega_dout[c] : uno_dout[c], &opt.dout[c]);
		opt.ndout = opt.channels;
	} else if (opt.ndout != opt.channels) {
		usage_error("--dout lists %d pins but --channels is %d: give one DOUT pin per channel", opt.ndout,
			opt.channels);
	}
	for (int k = opt.channels; k < MAX_CHANNELS; k++)
		if (opt.dead[k])
			usage_error("--dead %d: there are only channels 0..%d (--channels %d)", k, opt.channels - 1,
				opt.channels);
	for (int k = 0; k < opt.channels; k++)
		opt.ndead += opt.dead[k];

	/* Pins: distinct, and not UART0's. */
	hx711_pin_t rx, tx;
	parse_pin(mega ? "PE0" : "PD0", &rx);
	parse_pin(mega ? "PE1" : "PD1", &tx);
	struct {
		const char *flag;
		hx711_pin_t *p;
	} all[2 + MAX_CHANNELS] = { { "--sck", &opt.sck }, { "--rate", &opt.rate } };
	int n = 2;
	for (int c = 0; c < opt.channels; c++)
		all[n++] = (typeof(all[0])){ "--dout", &opt.dout[c] };
	for (int a = 0; a < n; a++) {
		if (same_pin(all[a].p, &rx) || same_pin(all[a].p, &tx))
			usage_error("%s %s: that is UART0's %s pin on the %s; choose another pin", all[a].flag,
				pin_name(all[a].p), same_pin(all[a].p, &rx) ? "RX" : "TX", opt.mcu);
		for (int b = 0; b < a; b++)
			if (same_pin(all[a].p, all[b].p))
				usage_error("%s %s: the pin is already used by %s; every HX711 line needs its own pin",
					all[a].flag, pin_name(all[a].p), all[b].flag);
	}
}

/* ---- the ELF ---- */
static void check_elf(void)
{
	struct stat st;
	if (stat(opt.elf, &st) < 0)
		usage_error("--elf %s: %s; build the firmware first (or fix the path)", opt.elf, strerror(errno));
	if (!S_ISREG(st.st_mode))
		usage_error("--elf %s: not a regular file", opt.elf);
	FILE *f = fopen(opt.elf, "rb");
	if (!f)
		usage_error("--elf %s: cannot read it: %s", opt.elf, strerror(errno));
	Elf32_Ehdr h;
	size_t n = fread(&h, 1, sizeof h, f);
	fclose(f);
	if (n != sizeof h || memcmp(h.e_ident, ELFMAG, SELFMAG) != 0 || h.e_ident[EI_CLASS] != ELFCLASS32)
		usage_error("--elf %s: not an ELF file (pass the .elf the AVR build produces, not a .hex or .bin)",
			opt.elf);
	if (h.e_machine != EM_AVR)
		usage_error("--elf %s: an ELF for machine %d, not for the AVR: pass the AVR firmware build", opt.elf,
			h.e_machine);
	unsigned arch = h.e_flags & 0x7f;	/* EF_AVR_MACH: avr5, avr6, ... */
	unsigned want = !strcmp(opt.mcu, "atmega2560") ? 6 : 5;
	if (arch && arch != want)
		usage_error("--elf %s was built for the avr%u architecture but --mcu %s is avr%u: build the firmware "
			"for %s or fix --mcu", opt.elf, arch, opt.mcu, want, opt.mcu);
}

/* ---- simavr's logging, as JSON lines ---- */
static void avr_logger(avr_t *a, const int level, const char *fmt, va_list ap)
{
	static char line[2048];
	static size_t len;
	static int line_level;
	if (a ? level > a->log : level > LOG_WARNING)
		return;
	char piece[1024];
	vsnprintf(piece, sizeof piece, fmt, ap);
	if (!len)
		line_level = level;
	for (const char *p = piece; *p; p++) {
		if (*p == '\n' || len == sizeof line - 1) {
			line[len] = 0;
			if (len) {
				static const char *names[] = { "none", "output", "error", "warning", "trace", "debug" };
				report_log(line_level >= 0 && line_level <= 5 ? names[line_level] : "debug", "simavr: %s", line);
			}
			len = 0;
			line_level = level;
			if (*p == '\n')
				continue;
		}
		line[len++] = *p;
	}
}

/* Runs fn with fd 1 pointed at a temporary file, then reports what was printed as log lines:
 * nothing simavr prints may reach stdout, which carries the UART. */
static void quiet_stdout_begin(int *saved, FILE **tmp)
{
	fflush(stdout);
	*tmp = tmpfile();
	*saved = *tmp ? dup(1) : -1;
	if (*saved >= 0)
		dup2(fileno(*tmp), 1);
}

static void quiet_stdout_end(int saved, FILE *tmp)
{
	fflush(stdout);
	if (saved < 0)
		return;
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	char line[1024];
	while (fgets(line, sizeof line, tmp)) {
		line[strcspn(line, "\n")] = 0;
		if (*line)
			report_log("output", "simavr: %s", line);
	}
	fclose(tmp);
}

/* ---- EEPROM ---- */
static uint32_t eeprom_size(void)
{
	return avr->e2end + 1;
}

static uint8_t *eeprom_bytes(void)
{
	avr_eeprom_desc_t d = { .ee = NULL, .offset = 0, .size = eeprom_size() };
	avr_ioctl(avr, AVR_IOCTL_EEPROM_GET, &d);
	return d.ee;
}

static void eeprom_load(void)
{
	uint8_t *ee = eeprom_bytes();
	if (!ee) {
		report_error("usage", "--eeprom: the %s has no EEPROM in simavr", opt.mcu);
		exit(2);
	}
	/* Blank, whatever the ELF's .eeprom section says: only the program is flashed. */
	memset(ee, 0xff, eeprom_size());
	if (!opt.eeprom)
		return;
	struct stat st;
	if (stat(opt.eeprom, &st) == 0 && !S_ISREG(st.st_mode))
		usage_error("--eeprom %s: not a regular file; name the EEPROM image file", opt.eeprom);
	FILE *f = fopen(opt.eeprom, "rb");
	if (!f) {
		if (errno != ENOENT)
			usage_error("--eeprom %s: cannot read it: %s", opt.eeprom, strerror(errno));
		/* Starts blank; make sure it can be saved. */
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", opt.eeprom);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = 0;
		else
			snprintf(dir, sizeof dir, ".");
		if (access(dir, W_OK) < 0)
			usage_error("--eeprom %s: its directory %s is not writable (%s), so the EEPROM could not be saved",
				opt.eeprom, dir, strerror(errno));
		return;
	}
	uint8_t *buf = malloc(eeprom_size() + 1);
	size_t n = buf ? fread(buf, 1, eeprom_size() + 1, f) : 0;
	fclose(f);
	if (n > eeprom_size()) {
		free(buf);
		usage_error("--eeprom %s: more than the %s's %u bytes of EEPROM; pass an image made for this MCU "
			"(or delete it to start blank)", opt.eeprom, opt.mcu, eeprom_size());
	}
	if (n) {
		avr_eeprom_desc_t d = { .ee = buf, .offset = 0, .size = (uint32_t)n };
		avr_ioctl(avr, AVR_IOCTL_EEPROM_SET, &d);
	}
	free(buf);
}

static int eeprom_save(void)
{
	if (!opt.eeprom || !avr)
		return 0;
	uint8_t *ee = eeprom_bytes();
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", opt.eeprom, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	int ok = f && fwrite(ee, 1, eeprom_size(), f) == eeprom_size();
	if (f && fclose(f) != 0)
		ok = 0;
	if (ok && rename(tmp, opt.eeprom) < 0)
		ok = 0;
	if (!ok) {
		report_error("io", "--eeprom %s: could not save the EEPROM: %s", opt.eeprom, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- exit ---- */
static void finish(int code) __attribute__((noreturn));
static void finish(int code)
{
	/* Output: what the pipe takes within 200 ms. */
	uint64_t deadline = mono_ns() + 200000000ull;
	while (ub.tx_len && !ub.stdout_gone && mono_ns() < deadline) {
		struct pollfd p = { .fd = 1, .events = POLLOUT };
		if (poll(&p, 1, 20) > 0)
			uart_bridge_flush(&ub, 0);
	}
	if (eeprom_save() < 0 && code == 0)
		code = 1;
	json_buf_t b;
	jb_begin(&b, "exit");
	jb_uint(&b, "simUs", avr ? sim_us() : 0);
	jb_uint(&b, "conversions", bank.stats.conversions);
	jb_uint(&b, "reads", bank.stats.reads);
	jb_uint(&b, "missed", bank.stats.missed);
	jb_uint(&b, "gainErrors", bank.stats.gain_errors);
	jb_uint(&b, "powerDowns", bank.stats.power_downs);
	jb_uint(&b, "uartTx", ub.tx_count);
	jb_uint(&b, "uartRx", ub.rx_count);
	jb_uint(&b, "uartRxDropped", ub.rx_dropped);
	jb_uint(&b, "resets", resets);
	jb_uint(&b, "feedLines", feed.lines);
	jb_int(&b, "code", code);
	jb_emit(&b);
	exit(code);
}

/* ---- pacing ---- */
static void pace_anchor(void)
{
	pace_anchor_ns = mono_ns();
	pace_anchor_cycle = avr->cycle;
}

/* ---- input ---- */
static void read_stdin(void)
{
	uint8_t buf[4096];
	size_t room = sizeof ub.rxq - ub.rxq_len;
	ssize_t n = read(0, buf, room ? (room < sizeof buf ? room : sizeof buf) : sizeof buf);
	if (n > 0)
		uart_bridge_input(&ub, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		stdin_eof = 1;	/* not an exit condition */
}

static void read_feed(void)
{
	char err[512];
	if (feed_read(&feed, err, sizeof err) < 0) {
		report_error("feed", "%s", err);
		finish(2);
	}
}

/* Polls (or, with timeout_ns > 0, waits on) stdin and the feed, and takes what is there. */
static void poll_inputs(uint64_t timeout_ns)
{
	struct pollfd fds[2];
	int n = 0, in = -1, fe = -1;
	if (!stdin_eof) {
		in = n;
		fds[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
	}
	if (feed_wants_input(&feed)) {
		fe = n;
		fds[n++] = (struct pollfd){ .fd = feed_fd(&feed), .events = POLLIN };
	}
	if (!n && !timeout_ns)
		return;
	struct timespec ts = { (time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u) };
	int r = ppoll(fds, (nfds_t)n, &ts, NULL);
	if (r <= 0)
		return;
	if (in >= 0 && fds[in].revents)
		read_stdin();
	if (fe >= 0 && fds[fe].revents)
		read_feed();
}

static void set_die_temperature(void);

/* The HX711 bank asks for the raws of a conversion completing at t. */
static void sample(void *ctx, uint64_t t_us, int32_t *raw)
{
	(void)ctx;
	int waited = 0;
	while (!feed_determined(&feed, t_us)) {
		if (!waited) {
			waited = 1;
			while (ub.tx_len && !ub.stdout_gone && !sig_quit)
				uart_bridge_flush(&ub, 1);
		}
		/* Say so once the wait is noticeable (a feed that keeps up never sees this). */
		struct pollfd p = { .fd = feed_fd(&feed), .events = POLLIN };
		int r = poll(&p, 1, waited == 1 ? FEED_WAIT_REPORT_MS : -1);
		if (sig_quit)
			finish(0);
		if (r > 0) {
			read_feed();
		} else if (r == 0 && waited == 1) {
			waited = 2;
			json_buf_t b;
			jb_begin(&b, "feed-wait");
			jb_uint(&b, "simUs", t_us);
			if (feed.have_last)
				jb_uint(&b, "lastFeedUs", feed.last_us);
			jb_emit(&b);
		}
	}
	feed_values(&feed, t_us, raw);
	/* A temperature on the feed moves the die from this conversion on. */
	int32_t centi;
	if (feed_temperature(&feed, &centi) && !(opt.have_temp && lround(opt.temp_c * 100) == centi)) {
		opt.have_temp = 1;
		opt.temp_c = centi / 100.0;
		set_die_temperature();
	}
	if (waited)
		pace_anchor();
}

/* ---- resets ---- */
static avr_cycle_count_t tick(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a;
	(void)param;
	return when + TICK_CYCLES;	/* bounds a sleeping MCU's jump to the next event */
}

/* The 328P's sensor by the datasheet's typical curve: 314 mV at 25 °C, 1.0615 mV/°C; simavr's ADC
 * takes the sensor's output in millivolts. The feed's T token, when given, overrides --temp-c. */
static void set_die_temperature(void)
{
	if (!opt.have_temp || strcmp(opt.mcu, "atmega328p"))
		return;
	avr_irq_t *irq = avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_TEMP);
	if (irq)
		avr_raise_irq(irq, (uint32_t)lround(314.0 + (opt.temp_c - 25.0) * 1.0615));
}

static void on_mcu_reset(avr_t *a)
{
	if (core_reset)
		core_reset(a);
	set_die_temperature();
	if (!started)
		return;
	resets++;
	eeprom_save();
	hx711_after_mcu_reset(&bank);
	uart_bridge_after_mcu_reset(&ub);
	avr_cycle_timer_register(a, TICK_CYCLES, tick, NULL);
	json_buf_t b;
	jb_begin(&b, "reset");
	jb_str(&b, "reason", reset_reason ? reset_reason : "watchdog");
	jb_uint(&b, "simUs", sim_us());
	jb_emit(&b);
	reset_reason = NULL;
}

static void reboot(void)
{
	/* A power cycle: registers, I/O and RAM cleared; the EEPROM stays. */
	memset(avr->data, 0, avr->ramend + 1u);
	reset_reason = "signal";
	avr_reset(avr);
	avr_regbit_set(avr, avr->reset_flags.porf);
}

static void no_sleep(avr_t *a, avr_cycle_count_t how_long)
{
	(void)a;
	(void)how_long;	/* the loop below paces simulated time */
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_reboot = 1;
	else
		sig_quit = 1;
}

/* ---- the loop ---- */
static void service(void)
{
	if (sig_quit)
		finish(0);
	if (sig_reboot) {
		sig_reboot = 0;
		reboot();
	}
	poll_inputs(0);
	if (ub.rxq_len && ub.rx_on)
		uart_bridge_push(&ub);
	feed_advance(&feed, sim_us() > 2000 ? sim_us() - 2000 : 0);

	uint64_t now = mono_ns();
	if (uart_bridge_should_flush(&ub, now, FLUSH_AGE_NS))
		uart_bridge_flush(&ub, 1);
	if (ub.stdout_gone) {	/* nobody can read the UART any more: end as on SIGTERM */
		report_log("warning", "stdout was closed: the MCU's output has no reader; exiting");
		finish(0);
	}

	if (opt.speed <= 0)
		return;
	double sim_ns = (double)(avr->cycle - pace_anchor_cycle) * 1e9 / (double)avr->frequency;
	double wall_ns = (double)(now - pace_anchor_ns);
	double ahead_ns = sim_ns / opt.speed - wall_ns;	/* in wall-clock terms */
	if (ahead_ns >= (double)PACE_SLEEP_MIN_NS) {
		if (ub.tx_len)
			uart_bridge_flush(&ub, 1);
		poll_inputs((uint64_t)ahead_ns);
	} else if (-ahead_ns > (double)PACE_MAX_LAG_NS) {
		pace_anchor();	/* the host cannot keep up: follow the clock from here */
	}
}

static void run(void)
{
	for (;;) {
		avr_cycle_count_t until = avr->cycle + TICK_CYCLES;
		while (avr->cycle < until) {
			int state = avr_run(avr);
			if (state == cpu_Done || state == cpu_Crashed) {
				if (ub.tx_len)
					uart_bridge_flush(&ub, 1);
				if (state == cpu_Crashed)
					report_error("crash", "the MCU crashed at PC 0x%05x, %.3f ms after start (invalid "
						"opcode, a jump outside the flash, or a broken stack); look there with "
						"avr-objdump -d %s", avr->pc, (double)sim_us() / 1000, opt.elf);
				else
					report_error("crash", "the MCU stopped for good at PC 0x%05x, %.3f ms after start: it "
						"went to sleep with interrupts disabled (or main() returned)", avr->pc,
						(double)sim_us() / 1000);
				finish(1);
			}
		}
		service();
	}
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	check_elf();
	avr_global_logger_set(avr_logger);

	elf_firmware_t fw;
	memset(&fw, 0, sizeof fw);
	int saved;
	FILE *tmp;
	quiet_stdout_begin(&saved, &tmp);
	int rc = elf_read_firmware(opt.elf, &fw);
	if (rc == 0) {
		avr = avr_make_mcu_by_name(opt.mcu);
		if (avr)
			avr_init(avr);
	}
	quiet_stdout_end(saved, tmp);
	if (rc != 0)
		usage_error("--elf %s: simavr could not load it (a stripped or damaged ELF?)", opt.elf);
	if (!avr) {
		report_error("crash", "simavr does not know the %s: this libsimavr lacks the core", opt.mcu);
		return 1;
	}
	if (fw.flashbase + fw.flashsize > avr->flashend + 1u)
		usage_error("--elf %s: %u bytes of program, more than the %s's %u bytes of flash: build for the "
			"MCU you simulate", opt.elf, fw.flashbase + fw.flashsize, opt.mcu, avr->flashend + 1u);
	quiet_stdout_begin(&saved, &tmp);
	avr_load_firmware(avr, &fw);
	quiet_stdout_end(saved, tmp);
	avr->frequency = opt.freq;
	avr->log = LOG_ERROR;
	avr->sleep = no_sleep;

	eeprom_load();

	if (uart_bridge_init(&ub, avr, '0') < 0) {
		report_error("crash", "the %s has no UART0 in simavr", opt.mcu);
		return 1;
	}
	int feed_fd_in = fcntl(3, F_GETFD) >= 0 ? 3 : -1;
	if (feed_open(&feed, feed_fd_in, opt.channels) < 0) {
		report_error("io", "out of memory");
		return 1;
	}
	char err[256];
	if (hx711_init(&bank, avr, opt.mcu, opt.channels, &opt.sck, &opt.rate, opt.dout, opt.dead, sample, NULL, err,
		    sizeof err) < 0)
		usage_error("%s", err);

	set_die_temperature();
	core_reset = avr->reset;
	avr->reset = on_mcu_reset;
	avr_cycle_timer_register(avr, TICK_CYCLES, tick, NULL);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: waits return EINTR and see the flag */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* If whoever started us goes away, leave the same way as on SIGTERM (EEPROM saved). */
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	json_buf_t b;
	jb_begin(&b, "ready");
	jb_str(&b, "mcu", opt.mcu);
	jb_uint(&b, "freq", opt.freq);
	jb_int(&b, "channels", opt.channels);
	jb_num(&b, "speed", opt.speed);
	jb_str(&b, "sck", pin_name(&opt.sck));
	jb_str(&b, "rate", pin_name(&opt.rate));
	char list[256] = "[";
	for (int c = 0; c < opt.channels; c++) {
		char item[16];
		snprintf(item, sizeof item, "%s\"%s\"", c ? "," : "", pin_name(&opt.dout[c]));
		strncat(list, item, sizeof list - strlen(list) - 2);
	}
	strcat(list, "]");
	jb_raw(&b, "dout", list);
	snprintf(list, sizeof list, "[");
	for (int c = 0, first = 1; c < opt.channels; c++) {
		if (!opt.dead[c])
			continue;
		char item[8];
		snprintf(item, sizeof item, "%s%d", first ? "" : ",", c);
		strncat(list, item, sizeof list - strlen(list) - 2);
		first = 0;
	}
	strcat(list, "]");
	jb_raw(&b, "dead", list);
	jb_int(&b, "eepromBytes", (long long)eeprom_size());
	jb_str(&b, "feed", feed_fd_in >= 0 ? "fd3" : "none");
	jb_emit(&b);

	started = 1;
	pace_anchor();
	run();
}
