/*
 * Fleet-year SCADA generator for the fleet benchmark (issue 6; run by bench_fleet.sh, never by
 * ctest). Writes, into --out DIR:
 *   sensor_log.csv  turbine_id,timestamp + the samples' 8 channels, one row per turbine per
 *                   10 minutes, rows interleaved in time order (all turbines at t, then t + 600 s)
 *                   as a real SCADA export is: 1,000 turbines x 365 days = 52.56 M rows, ~4.3 GB
 *   failures.csv    turbine_id,failure_time,component
 *   config.json     samples/config.json with the log, failures and model by absolute path and
 *                   output_dir DIR/out
 *   gen_fleet.txt   the arguments and counts; written last, so its presence means a complete log
 *
 * The signals follow what samples/sensor_log.csv shows (the deployed model was trained on it, so
 * they have to look like it for the model to score them like real data):
 *   - wind: per farm of 25 turbines an AR(1) weather process (lag-36 autocorrelation ~0.6, as in
 *     the samples), a weak diurnal cycle, windier winters; per turbine a site factor and local
 *     turbulence. Turbines run from 3.0 m/s; below, they idle (pitch ~88 deg, rpm ~0, no power).
 *   - power: cubic from cut-in to 2,000 kW rated at 12 m/s; rpm 1.3 v + 2.3 capped at 15.5;
 *     pitch ~0.5 deg below rated, then 2.15 deg per m/s; vibration 0.145 rpm + 0.05.
 *   - temperatures: ambient with a diurnal cycle (coolest at 04:00, warmest at 16:00), weather
 *     anomalies and a mild season; nacelle, gearbox oil and bearing temperatures as first-order
 *     lags towards load- and ambient-dependent targets (coefficients fitted on the samples).
 *   - faults: ~5% of turbines fail once (gearbox or main bearing). Over the 72 h before the
 *     failure the gearbox oil (or bearing) temperature drifts up to ~12 degC above normal, the
 *     vibration level rises and bursts become more frequent, as before the samples' failures;
 *     after it the turbine stands still for 1 to 2.5 days.
 *   - confounders: ~2% of turbines have one harmless episode (vibration bursts, a warm bearing)
 *     that the model may rightly or wrongly flag.
 *   - gaps: communication outages (missing rows, 20 min to 8 h) and a few empty cells, so that
 *     some windows are skipped.
 * Everything is drawn from one xoshiro256** stream seeded by --seed: same arguments, same bytes.
 *
 * usage: gen_fleet [--turbines N] [--days D] [--seed S] [--out DIR] [--samples DIR]
 * (--samples: the folder holding config.json and aurora_int8.onnx; default the source tree's)
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef WF_SOURCE_DIR
#define WF_SOURCE_DIR "."
#endif

#define STEP_S 600       /* cadence */
#define PER_DAY 144      /* steps per day */
#define FARM_SIZE 25     /* turbines sharing one weather process */
#define PRECURSOR 432    /* 72 h of precursors before a failure */
#define T0 1704067200LL  /* 2024-01-01T00:00:00Z */
#define PI 3.14159265358979323846
#ifndef SEASON_T
#define SEASON_T (-2.0)
#endif
#ifndef DIURNAL_T
#define DIURNAL_T 1.0
#endif
#ifndef WIND_NOISE
#define WIND_NOISE 0.3
#endif
#ifndef WIND_LO
#define WIND_LO 6.6
#define WIND_HI 8.0
#endif
#ifndef FARM_AMB
#define FARM_AMB 1.0
#endif
#ifndef SEASON_W
#define SEASON_W 0.08
#endif
#ifndef TEMP_SHIFT
#define TEMP_SHIFT 0.0
#endif
#ifndef GB_OFF
#define GB_OFF 0.0
#endif

/* ---- random numbers: xoshiro256** and a table-driven standard normal ---- */

static uint64_t rng_s[4];

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(void) {
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

static void rng_seed(uint64_t seed) {
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        rng_s[i] = z ^ (z >> 31);
    }
}

static double unif(void) { return (double)(rng_next() >> 11) * 0x1.0p-53; }

static double unif_ab(double a, double b) { return a + (b - a) * unif(); }

/* Inverse normal CDF (Acklam's rational approximation, relative error 1.2e-9). */
static double norm_inv(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    double q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    q = p - 0.5;
    r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* N(0,1) from a 16-bit table of quantiles at (i + 0.5) / 65536 (tails cut at 4.3 sd: plenty for
 * sensor noise, and ~10x cheaper than Box-Muller). Four normals per 64-bit draw. */
#define NTAB 65536
static float ntab[NTAB];
static uint64_t nbits;
static int nleft;

static void gauss_init(void) {
    for (int i = 0; i < NTAB; i++)
        ntab[i] = (float)norm_inv(((double)i + 0.5) / NTAB);
}

static double gauss(void) {
    if (!nleft) {
        nbits = rng_next();
        nleft = 4;
    }
    nleft--;
    double g = ntab[nbits & (NTAB - 1)];
    nbits >>= 16;
    return g;
}

/* ---- output ---- */

/* round(v * 10^dec) written with dec decimals; returns the end */
static char *put_fixed(char *p, double v, int dec) {
    static const double scale[] = {1, 10, 100, 1000};
    long long n = llround(v * scale[dec]);
    if (n < 0) {
        *p++ = '-';
        n = -n;
    }
    char tmp[24];
    int k = 0;
    for (int i = 0; i < dec; i++) {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    }
    if (dec)
        tmp[k++] = '.';
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k)
        *p++ = tmp[--k];
    return p;
}

/* UTC seconds -> "YYYY-MM-DDTHH:MM:SSZ" (civil_from_days, H. Hinnant), years 0..9999 */
static void iso_time(long long t, char out[32]) {
    long long days = t / 86400, sec = t % 86400;
    if (sec < 0) {
        sec += 86400;
        days--;
    }
    long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)(y % 10000), (int)m, (int)d,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
}

/* ---- the fleet ---- */

enum { FAULT_NONE, FAULT_GEARBOX, FAULT_BEARING };
enum { CONF_NONE, CONF_VIBRATION, CONF_WARM_BEARING };

typedef struct farm {
    double mean_wind; /* site mean wind, m/s */
    double z;         /* AR(1) weather state, unit variance */
    double amb_off;   /* site climate offset, degC */
    double amb_anom;  /* AR(1) weather temperature anomaly, degC */
} farm;

typedef struct turbine {
    char id[16];
    int id_len;
    double site;                /* wind factor of the position in the farm */
    double turb;                /* local AR(1) turbulence, m/s */
    double nac, gb, br;         /* thermal states, degC */
    double gb_off, br_off;      /* unit-to-unit offsets, degC */
    int fault;                  /* FAULT_* */
    long fail_step, down_until; /* failure time; standstill after it */
    int conf;                   /* CONF_* */
    long conf_from, conf_to;
    long gap_until;             /* no rows while step < gap_until */
} turbine;

typedef struct options {
    int turbines, days;
    uint64_t seed;
    const char *out, *samples;
} options;

static int usage(void) {
    fprintf(stderr, "usage: gen_fleet [--turbines N] [--days D] [--seed S] [--out DIR] "
                    "[--samples DIR]\n");
    return 1;
}

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_fail(const void *a, const void *b) {
    const turbine *x = *(turbine *const *)a, *y = *(turbine *const *)b;
    return strcmp(x->id, y->id);
}

/* Replaces the JSON string value "from" (quotes included) by "to" once; 0 if found. */
static int replace_value(char **text, const char *from, const char *to) {
    char *hit = strstr(*text, from);
    if (!hit)
        return -1;
    size_t pre = (size_t)(hit - *text), lf = strlen(from), lt = strlen(to), lr = strlen(hit + lf);
    char *out = malloc(pre + lt + lr + 1);
    if (!out)
        return -1;
    memcpy(out, *text, pre);
    memcpy(out + pre, to, lt);
    memcpy(out + pre + lt, hit + lf, lr + 1);
    free(*text);
    *text = out;
    return 0;
}

static int write_config(const options *o, const char *absout) {
    char path[4096], model[4096];
    snprintf(path, sizeof path, "%s/config.json", o->samples);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "gen_fleet: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(text);
        return -1;
    }
    text[n] = 0;
    fclose(f);
    snprintf(path, sizeof path, "%s/aurora_int8.onnx", o->samples);
    if (!realpath(path, model)) {
        fprintf(stderr, "gen_fleet: %s: %s\n", path, strerror(errno));
        free(text);
        return -1;
    }
    char v_model[4200], v_log[4200], v_fail[4200], v_out[4200];
    snprintf(v_model, sizeof v_model, "\"%s\"", model);
    snprintf(v_log, sizeof v_log, "\"%s/sensor_log.csv\"", absout);
    snprintf(v_fail, sizeof v_fail, "\"%s/failures.csv\"", absout);
    snprintf(v_out, sizeof v_out, "\"%s/out\"", absout);
    if (replace_value(&text, "\"aurora_int8.onnx\"", v_model) ||
        replace_value(&text, "\"sensor_log.csv\"", v_log) ||
        replace_value(&text, "\"failures.csv\"", v_fail) ||
        replace_value(&text, "\"../out\"", v_out)) {
        fprintf(stderr, "gen_fleet: %s/config.json no longer has the model, log, failures and "
                        "output_dir values this generator rewrites\n", o->samples);
        free(text);
        return -1;
    }
    snprintf(path, sizeof path, "%s/config.json", o->out);
    f = fopen(path, "wb");
    int bad = !f || fputs(text, f) < 0;
    if (f && fclose(f))
        bad = 1;
    free(text);
    if (bad)
        fprintf(stderr, "gen_fleet: cannot write %s\n", path);
    return bad ? -1 : 0;
}

int main(int argc, char **argv) {
    options o = {1000, 365, 20240301, "/tmp/whyflag_fleet", WF_SOURCE_DIR "/samples"};
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--turbines"))
            o.turbines = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--days"))
            o.days = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed"))
            o.seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--out"))
            o.out = argv[++i];
        else if (!strcmp(argv[i], "--samples"))
            o.samples = argv[++i];
        else
            return usage();
    }
    if (o.turbines < 1 || o.turbines > 99999 || o.days < 2)
        return usage();
    if (mkdir(o.out, 0777) && errno != EEXIST) {
        fprintf(stderr, "gen_fleet: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    char absout[4096], path[4200], tmp[4300];
    if (!realpath(o.out, absout)) {
        fprintf(stderr, "gen_fleet: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/gen_fleet.txt", absout);
    unlink(path); /* incomplete until rewritten at the end */

    double w0 = wall();
    rng_seed(o.seed);
    gauss_init();
    const long steps = (long)o.days * PER_DAY;
    const int nt = o.turbines, nf = (nt + FARM_SIZE - 1) / FARM_SIZE;
    const int digits = nt < 100 ? 2 : nt < 1000 ? 3 : nt < 10000 ? 4 : 5;

    farm *farms = calloc((size_t)nf, sizeof *farms);
    turbine *tb = calloc((size_t)nt, sizeof *tb);
    if (!farms || !tb)
        return 1;
    for (int f = 0; f < nf; f++) {
        farms[f].mean_wind = unif_ab(WIND_LO, WIND_HI);
        farms[f].z = gauss();
        farms[f].amb_off = unif_ab(-FARM_AMB, FARM_AMB);
    }
    int n_fail = 0;
    for (int k = 0; k < nt; k++) {
        turbine *t = &tb[k];
        t->id_len = snprintf(t->id, sizeof t->id, "WT%0*d", digits, k + 1);
        t->site = unif_ab(0.9, 1.12);
        t->gb_off = GB_OFF * gauss();
        t->br_off = GB_OFF * gauss();
        t->nac = t->gb = t->br = -1000; /* set at the first step */
        t->fail_step = t->down_until = -1;
        /* a failure at least 4 days in, so the 72 h of precursors are in the log */
        if (unif() < 0.05 && steps > 5 * PER_DAY) {
            t->fault = unif() < 0.5 ? FAULT_GEARBOX : FAULT_BEARING;
            t->fail_step = 4 * PER_DAY + (long)(unif() * (double)(steps - 5 * PER_DAY));
            t->down_until = t->fail_step + (long)unif_ab(24, 60) * 6;
            n_fail++;
        }
        if (unif() < 0.02) {
            t->conf = unif() < 0.5 ? CONF_VIBRATION : CONF_WARM_BEARING;
            long len = t->conf == CONF_VIBRATION ? (long)unif_ab(12, 36) * 6
                                                 : (long)unif_ab(48, 96) * 6;
            t->conf_from = (long)(unif() * (double)steps);
            t->conf_to = t->conf_from + len;
            if (t->fault && t->conf_to > t->fail_step - PRECURSOR &&
                t->conf_from < t->down_until)
                t->conf = CONF_NONE; /* keep the two apart */
        }
    }

    snprintf(path, sizeof path, "%s/sensor_log.csv", absout);
    snprintf(tmp, sizeof tmp, "%s.part", path);
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        fprintf(stderr, "gen_fleet: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    size_t cap = 8u << 20, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return 1;
    len = (size_t)snprintf(buf, cap, "turbine_id,timestamp,wind_speed,rotor_rpm,power_kw,pitch_deg,"
                                     "gearbox_oil_temp,bearing_temp,nacelle_temp,vibration_rms\n");
    long long rows = 0, bytes = 0, missing_rows = 0, empty_cells = 0, gaps = 0;
    /* AR(1) coefficients per 10-minute step */
    const double phi_w = 0.987, sd_w = sqrt(1 - phi_w * phi_w);  /* weather: lag-36 ~0.6 */
    const double phi_l = 0.90, sd_l = 0.35 * sqrt(1 - 0.90 * 0.90); /* local turbulence */
    const double phi_a = 0.995, sd_a = 0.75 * sqrt(1 - phi_a * phi_a); /* temperature anomaly */

    for (long s = 0; s < steps; s++) {
        long long now = T0 + (long long)s * STEP_S;
        char ts[32];
        iso_time(now, ts);
        double hour = (double)(now % 86400) / 3600.0, doy = (double)s / PER_DAY;
        double hs = sin(2 * PI * hour / 24), hc = cos(2 * PI * hour / 24);
        double diurnal_w = 0.5 * sin(2 * PI * (hour - 12) / 24); /* calmer mornings */
        double season_t = SEASON_T * cos(2 * PI * (doy - 15) / 365.25); /* cool Jan, warm Jul */
        double season_w = 1 + SEASON_W * cos(2 * PI * (doy - 15) / 365.25); /* windier winter */
        for (int f = 0; f < nf; f++) {
            farms[f].z = phi_w * farms[f].z + sd_w * gauss();
            farms[f].amb_anom = phi_a * farms[f].amb_anom + sd_a * gauss();
        }
        for (int k = 0; k < nt; k++) {
            turbine *t = &tb[k];
            const farm *fm = &farms[k / FARM_SIZE];
            double wfarm = fm->mean_wind * season_w + diurnal_w + 3.0 * fm->z;
            t->turb = phi_l * t->turb + sd_l * gauss();
            /* the logged 10-minute mean: the weather, the site, turbulence and sensor noise */
            double v = t->site * wfarm + t->turb + WIND_NOISE * gauss();
            if (v < 0)
                v = fabs(0.3 * gauss());

            int down = s >= t->fail_step && s < t->down_until;
            int running = v >= 3.0 && !down;
            double rpm, pw, pitch, vib, load;
            if (running) {
                double pc = (v * v * v - 27.0) / 1701.0;
                if (pc >= 1) {
                    pw = 2000 + 15 * gauss();
                    if (pw > 2050)
                        pw = 2050;
                } else {
                    pw = 2000 * pc + 15 * gauss();
                    if (pw < 0)
                        pw = 0;
                }
                rpm = 1.357 * v + 1.93;
                if (rpm > 15.5)
                    rpm = 15.5;
                rpm += 0.15 * gauss();
                pitch = 0.5 + (v > 12.2 ? 2.176 * (v - 12.2) : 0) + 0.195 * gauss();
                load = pw / 2000;
                vib = 0.1036 * rpm + 0.2886 * load + 0.4581 + 0.047 * gauss();
            } else {
                rpm = fabs(0.04 * gauss());
                pw = 0;
                pitch = 88 + 0.195 * gauss();
                vib = 0.115 + 0.045 * gauss();
                load = 0;
            }
            if (vib < 0.05)
                vib = 0.05;

            /* Thermal lags, one step each, with the coefficients that reproduce the samples'
             * healthy turbines (fitted by open-loop simulation: what is left is white sensor
             * noise): the nacelle follows the ambient air (warmest ~15:00) and the load; the
             * gearbox oil and the bearing follow the load and the nacelle. */
            double nac_target = 13.841 + season_t + fm->amb_off + fm->amb_anom + 5.661 * load -
                                DIURNAL_T * (3.621 * hs + 3.461 * hc);
            if (t->nac < -100)
                t->nac = nac_target;
            t->nac = 0.8948 * t->nac + 0.1052 * nac_target;
            double nac = t->nac + 0.15 * gauss();
            double gb_target = 38.157 + 20.222 * load + 0.3023 * nac + 0.202 * hs - 0.4617 * hc;
            double br_target = 25.661 + 11.678 * load + 0.3945 * nac + 0.1956 * hs - 0.5933 * hc;
            if (t->gb < -100) {
                t->gb = gb_target;
                t->br = br_target;
            }
            t->gb = 0.8692 * t->gb + 0.1308 * gb_target;
            t->br = 0.8153 * t->br + 0.1847 * br_target;
            double gb = t->gb + t->gb_off + TEMP_SHIFT + 0.20 * gauss();
            double br = t->br + t->br_off + TEMP_SHIFT + 0.205 * gauss();

            /* precursors: the 72 h before a failure */
            if (t->fault && s < t->fail_step && s >= t->fail_step - PRECURSOR) {
                double x = 1.0 - (double)(t->fail_step - s) / PRECURSOR; /* 0 -> 1 */
                double drift = 12.5 * pow(x, 1.3);
                if (t->fault == FAULT_GEARBOX)
                    gb += drift;
                else
                    br += drift + 0.5 * gauss();
                if (running) {
                    vib += (t->fault == FAULT_GEARBOX ? 0.9 : 0.2) * x;
                    if (unif() < 0.04 + 0.22 * x)
                        vib += unif_ab(1.0, 10.0) * (0.4 + x);
                }
            }
            /* harmless episodes */
            if (t->conf && s >= t->conf_from && s < t->conf_to) {
                if (t->conf == CONF_VIBRATION && running && unif() < 0.12)
                    vib += unif_ab(1.0, 5.0);
                else if (t->conf == CONF_WARM_BEARING)
                    br += 3.5;
            }

            /* communication outages: ~1 per turbine per 2 months, 20 min to 8 h */
            if (s < t->gap_until) {
                missing_rows++;
                continue;
            }
            if (unif() < 1.0 / (60 * PER_DAY)) {
                t->gap_until = s + 2 + (long)(unif() * 47);
                gaps++;
                missing_rows++;
                continue;
            }

            if (len + 256 > cap) {
                if (fwrite(buf, 1, len, out) != len) {
                    fprintf(stderr, "gen_fleet: write %s: %s\n", tmp, strerror(errno));
                    return 1;
                }
                bytes += (long long)len;
                len = 0;
            }
            char *p = buf + len;
            memcpy(p, t->id, (size_t)t->id_len);
            p += t->id_len;
            *p++ = ',';
            memcpy(p, ts, 20);
            p += 20;
            double val[8] = {v, rpm, pw, pitch, gb, br, nac, vib};
            static const int dec[8] = {2, 2, 1, 2, 2, 2, 2, 3};
            int empty = unif() < 5e-6 ? (int)(rng_next() % 8) : -1;
            for (int c = 0; c < 8; c++) {
                *p++ = ',';
                if (c == empty) {
                    empty_cells++;
                    continue;
                }
                p = put_fixed(p, val[c], dec[c]);
            }
            *p++ = '\n';
            len = (size_t)(p - buf);
            rows++;
        }
    }
    if (fwrite(buf, 1, len, out) != len || fclose(out)) {
        fprintf(stderr, "gen_fleet: write %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    bytes += (long long)len;
    if (rename(tmp, path)) {
        fprintf(stderr, "gen_fleet: rename %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    free(buf);

    /* failures.csv, by turbine */
    turbine **failed = calloc((size_t)(n_fail ? n_fail : 1), sizeof *failed);
    int m = 0;
    for (int k = 0; k < nt; k++)
        if (tb[k].fault)
            failed[m++] = &tb[k];
    qsort(failed, (size_t)m, sizeof *failed, cmp_fail);
    snprintf(path, sizeof path, "%s/failures.csv", absout);
    FILE *ff = fopen(path, "wb");
    if (!ff)
        return 1;
    fprintf(ff, "turbine_id,failure_time,component\n");
    for (int i = 0; i < m; i++) {
        char ft[32];
        /* the failure falls inside its 10-minute interval, as in the samples */
        long long when = T0 + (long long)failed[i]->fail_step * STEP_S - 600 +
                         (long long)(rng_next() % 10) * 60;
        iso_time(when, ft);
        fprintf(ff, "%s,%s,%s\n", failed[i]->id, ft,
                failed[i]->fault == FAULT_GEARBOX ? "gearbox" : "main_bearing");
    }
    if (fclose(ff))
        return 1;
    free(failed);

    if (write_config(&o, absout))
        return 1;
    double dt = wall() - w0;
    int n_conf = 0;
    for (int k = 0; k < nt; k++)
        n_conf += tb[k].conf != CONF_NONE;
    snprintf(path, sizeof path, "%s/gen_fleet.txt", absout);
    FILE *st = fopen(path, "wb");
    if (!st)
        return 1;
    fprintf(st, "turbines=%d days=%d seed=%llu\nrows=%lld bytes=%lld missing_rows=%lld gaps=%lld "
                "empty_cells=%lld failures=%d confounders=%d seconds=%.1f\n",
            nt, o.days, (unsigned long long)o.seed, rows, bytes, missing_rows, gaps, empty_cells,
            n_fail, n_conf, dt);
    if (fclose(st))
        return 1;
    fprintf(stderr,
            "gen_fleet: %s/sensor_log.csv: %lld rows (%.2f GB), %d turbines x %d days, %d failures, "
            "%d confounders, %lld gaps (%lld rows missing), %lld empty cells, %.1f s (%.0f MB/s)\n",
            absout, rows, (double)bytes / 1e9, nt, o.days, n_fail, n_conf, gaps, missing_rows,
            empty_cells, dt, (double)bytes / 1e6 / dt);
    free(tb);
    free(farms);
    return 0;
}
