/**
 * The Kotlin engine file: one `object` per carrier behind one `PortSampler` interface,
 * a drop-in for the hand-written per-carrier samplers of the seed engine
 * (kotlin-birthday-connect's `carriers` package: `getPortsList(n)` fill functions).
 * Each object holds its table as constants (marginal segments, conditional model,
 * published attack numbers, timeouts). Written for Kotlin 1.3 (Debian's kotlinc): no
 * trailing commas, no `fun interface`. Sampling semantics are @natatlas/bias's
 * (pipeline/bias/src/sample.ts), drawing from `java.util.Random.nextDouble()`.
 */
import type { BiasTable, DeltaSegment, PortSegment } from '@natatlas/bias';
import { InputError } from '../errors.ts';
import type { ExportInput, ExportedCarrier } from './inputs.ts';
import { commentText, header, kotlinDouble, kotlinInt, kotlinString, wrapList } from './literals.ts';

export const KOTLIN_FILE = 'BiasTables.kt';

/**
 * Array literals compile into the object's class initializer, and a JVM method holds
 * at most 64 KiB of bytecode (about 9 bytes per element): this many segments per list
 * stay well inside it. The pipeline writes at most 128 marginal and 64 gap segments.
 */
export const MAX_KOTLIN_SEGMENTS = 1024;

const KEYWORDS = new Set(['as', 'break', 'class', 'continue', 'do', 'else', 'false', 'for', 'fun', 'if', 'in', 'interface', 'is', 'null', 'object', 'package', 'return', 'super', 'this', 'throw', 'true', 'try', 'typealias', 'typeof', 'val', 'var', 'when', 'while']);

/** Why `pkg` is not a Kotlin package name, or null when it is one. */
export function kotlinPackageProblem(pkg: string): string | null {
  const parts = pkg.split('.');
  for (const p of parts) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(p) || /^_+$/.test(p)) return `${JSON.stringify(p)} is not a Kotlin identifier`;
    if (KEYWORDS.has(p)) return `${JSON.stringify(p)} is a Kotlin keyword`;
  }
  return null;
}

const PRELUDE = `/** One carrier's port model, from its natatlas bias table: one object per carrier implements it. */
interface PortSampler {
    /** The carrier's name in the campaign (its folder name). */
    val carrier: String

    /** A port a fresh mapping gets: a draw from the carrier's marginal. */
    fun nextPort(rng: Random): Int

    /**
     * The next port after [last]: block: in last's aligned block with probability pSameBlock
     * (uniform in it), else a marginal draw; delta: last + a gap from the histogram, or a
     * marginal draw when that leaves 0..65535; no conditional model: a marginal draw.
     */
    fun nextPortAfter(last: Int, rng: Random): Int

    /** [n] marginal draws: the drop-in for a hand-written \`getPortsList(n)\` fill function. */
    fun getPortsList(n: Int, rng: Random): List<Int> = List(n) { nextPort(rng) }
}

/** How the next port depends on the last one seen. */
sealed class Conditional {
    /** Ports are independent: the marginal alone. */
    object None : Conditional()

    /** The next port stays in the last port's aligned block with probability [pSameBlock]; [perBlock] allocations per block. */
    class Block(val blockSize: Int, val pSameBlock: Double, val perBlock: Double) : Conditional()

    /** The next port is the last plus a gap drawn from the histogram [from]..[to] with [mass]. */
    class Delta(val from: IntArray, val to: IntArray, val mass: DoubleArray) : Conditional()
}

/** Packets per side for 50% and 99% success against a peer of the same carrier: naive, and with the published plan [strategy]. */
class Attack(val naiveP50: Double, val naiveP99: Double, val biasedP50: Double?, val biasedP99: Double?, val strategy: String)

/** Inverse CDF over [from, to, mass] segments, then uniform within the chosen one, from one draw. */
class SegmentSampler(private val from: IntArray, private val to: IntArray, mass: DoubleArray) {
    private val cum = DoubleArray(mass.size)

    init {
        var total = 0.0
        for (i in mass.indices) {
            total += mass[i]
            cum[i] = total
        }
        for (i in cum.indices) cum[i] = cum[i] / total
        cum[cum.size - 1] = 1.0
    }

    fun next(rng: Random): Int {
        val u = rng.nextDouble()
        var lo = 0
        var hi = cum.size - 1
        while (lo < hi) {
            val mid = (lo + hi) ushr 1
            if (u < cum[mid]) hi = mid else lo = mid + 1
        }
        val below = if (lo == 0) 0.0 else cum[lo - 1]
        val width = to[lo] - from[lo] + 1
        val offset = Math.floor((u - below) / (cum[lo] - below) * width).toInt()
        return from[lo] + minOf(width - 1, maxOf(0, offset))
    }
}

/** A carrier's bias table as constants, with its samplers. */
abstract class TablePortSampler(
    override val carrier: String,
    val schema: String,
    /** sha256 of the bias table file these constants came from. */
    val sha256: String,
    val family: String,
    val behavior: String,
    val portPreservation: Double,
    /** The marginal: sorted, disjoint port ranges [marginalFrom]..[marginalTo] with [marginalMass] (sums to 1). */
    val marginalFrom: IntArray,
    val marginalTo: IntArray,
    val marginalMass: DoubleArray,
    val conditional: Conditional,
    val attack: Attack,
    /** Median mapping lifetimes in seconds (null: not measured). */
    val waitTimeoutSeconds: Double?,
    val idleTimeoutSeconds: Double?
) : PortSampler {
    private val marginal = SegmentSampler(marginalFrom, marginalTo, marginalMass)
    private val gaps: SegmentSampler? = if (conditional is Conditional.Delta) SegmentSampler(conditional.from, conditional.to, conditional.mass) else null

    override fun nextPort(rng: Random): Int = marginal.next(rng)

    override fun nextPortAfter(last: Int, rng: Random): Int {
        val c = conditional
        return when (c) {
            is Conditional.Block ->
                if (rng.nextDouble() >= c.pSameBlock) nextPort(rng)
                else minOf(65535, last - last % c.blockSize + Math.floor(rng.nextDouble() * c.blockSize).toInt())
            is Conditional.Delta -> {
                val next = last + gaps!!.next(rng)
                if (next in 0..65535) next else nextPort(rng)
            }
            Conditional.None -> nextPort(rng)
        }
    }
}
`;

function ints(xs: readonly number[], indent: string): string {
  return `intArrayOf(\n${wrapList(xs.map(kotlinInt), indent)}\n${indent.slice(4)})`;
}

function doubles(xs: readonly number[], indent: string): string {
  return `doubleArrayOf(\n${wrapList(xs.map(kotlinDouble), indent, 6)}\n${indent.slice(4)})`;
}

function checkSize(c: ExportedCarrier, what: string, segs: readonly (PortSegment | DeltaSegment)[]): void {
  if (segs.length > MAX_KOTLIN_SEGMENTS) {
    throw new InputError(c.file, undefined, `${what} has ${segs.length} segments; the Kotlin export holds at most ${MAX_KOTLIN_SEGMENTS} per list (a JVM class initializer is limited to 64 KiB)`);
  }
}

function conditional(c: BiasTable['conditional']): string {
  if (c === null) return 'Conditional.None';
  if (c.kind === 'block') return `Conditional.Block(${kotlinInt(c.blockSize)}, ${kotlinDouble(c.pSameBlock)}, ${kotlinDouble(c.perBlock)})`;
  const indent = ' '.repeat(12);
  return `Conditional.Delta(\n        ${ints(c.segments.map((s) => s[0]), indent)},\n        ${ints(c.segments.map((s) => s[1]), indent)},\n        ${doubles(c.segments.map((s) => s[2]), indent)}\n    )`;
}

function nullable(x: number | null): string {
  return x === null ? 'null' : kotlinDouble(x);
}

function carrier(c: ExportedCarrier): string {
  const t = c.table;
  checkSize(c, 'marginal', t.marginal);
  if (t.conditional?.kind === 'delta') checkSize(c, 'conditional.segments', t.conditional.segments);
  const a = t.attack;
  const indent = ' '.repeat(8);
  return `/** Carrier ${commentText(c.name)}: ${t.model.family} model, ${t.mapping.behavior} mapping. */
object ${c.id} : TablePortSampler(
    carrier = ${kotlinString(c.name)},
    schema = ${kotlinString(t.schema)},
    sha256 = ${kotlinString(c.sha256)},
    family = ${kotlinString(t.model.family)},
    behavior = ${kotlinString(t.mapping.behavior)},
    portPreservation = ${kotlinDouble(t.mapping.portPreservation)},
    marginalFrom = ${ints(t.marginal.map((s) => s[0]), indent)},
    marginalTo = ${ints(t.marginal.map((s) => s[1]), indent)},
    marginalMass = ${doubles(t.marginal.map((s) => s[2]), indent)},
    conditional = ${conditional(t.conditional)},
    attack = Attack(${kotlinDouble(a.naive.p50)}, ${kotlinDouble(a.naive.p99)}, ${nullable(a.biased.p50)}, ${nullable(a.biased.p99)}, ${kotlinString(a.biased.strategy)}),
    waitTimeoutSeconds = ${nullable(t.timeouts.wait?.seconds ?? null)},
    idleTimeoutSeconds = ${nullable(t.timeouts.idle?.seconds ?? null)}
)
`;
}

/** The file's text for Kotlin package `pkg`: deterministic for the same tables. */
export function renderKotlin(input: ExportInput, pkg: string): string {
  return `${header(input)}
package ${pkg}

import java.util.Random

${PRELUDE}
${input.carriers.map(carrier).join('\n')}
/** Every carrier of the campaign, in name order, and lookup by the campaign's carrier name. */
object BiasTables {
    /** The campaign the tables come from. */
    const val CAMPAIGN: String = ${kotlinString(input.campaign)}

    /** The bias table contract version of every table here. */
    const val SCHEMA: String = ${kotlinString(input.schema)}

    val ALL: List<TablePortSampler> = listOf(
${wrapList(input.carriers.map((c) => c.id), '        ', 6)}
    )

    fun byCarrier(name: String): TablePortSampler? = ALL.firstOrNull { it.carrier == name }
}
`;
}
