// Test harness for tests/engine/export.test.ts: draws from every generated Kotlin sampler
// with java.util.Random(seed), one stream per carrier, and prints what the test checks:
//   carrier <sha256> <name as UTF-16 hex units> <lookup ok|bad>
//   ports <n marginal draws>
//   pairs <last next> x n   (last: a marginal draw, next: nextPortAfter(last))
import java.util.Random

fun hexUnits(s: String): String = s.map { String.format("%04x", it.toInt()) }.joinToString("")

fun emit(out: StringBuilder, sha256: String, name: String, lookupOk: Boolean, n: Int, seed: Long, next: (Random) -> Int, after: (Int, Random) -> Int) {
    out.append("carrier ").append(sha256).append(' ').append(hexUnits(name)).append(if (lookupOk) " ok" else " bad").append('\n')
    val rng = Random(seed)
    out.append("ports")
    for (i in 0 until n) out.append(' ').append(next(rng))
    out.append("\npairs")
    for (i in 0 until n) {
        val last = next(rng)
        out.append(' ').append(last).append(' ').append(after(last, rng))
    }
    out.append('\n')
}

fun main(args: Array<String>) {
    val n = args[0].toInt()
    val seed = args[1].toLong()
    val out = StringBuilder()
    for (s in engine.sample.BiasTables.ALL) {
        val p: engine.sample.PortSampler = s
        emit(out, s.sha256, s.carrier, engine.sample.BiasTables.byCarrier(s.carrier) === s, n, seed, { r -> p.nextPort(r) }, { l, r -> p.nextPortAfter(l, r) })
    }
    for (s in engine.names.BiasTables.ALL) {
        val p: engine.names.PortSampler = s
        emit(out, s.sha256, s.carrier, engine.names.BiasTables.byCarrier(s.carrier) === s, 10, seed, { r -> p.nextPort(r) }, { l, r -> p.nextPortAfter(l, r) })
    }
    print(out)
}
