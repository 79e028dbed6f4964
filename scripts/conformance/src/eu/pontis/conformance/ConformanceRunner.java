package eu.pontis.conformance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.hl7.fhir.r5.elementmodel.Manager.FhirFormat;
import org.hl7.fhir.utilities.validation.ValidationMessage;
import org.hl7.fhir.validation.ValidationEngine;

/**
 * Drives the HL7 FHIR validator engine (org.hl7.fhir.validation) for npm run conformance and
 * npm run bench:validate: one warm JVM, offline, no terminology server.
 *
 * Protocol, one line each way: stdin "<file>\t<profile canonical or empty>\t<repetitions>";
 * stdout one JSON object per file: {"file", "ms": [per repetition], "issues": [...]}. "ready" is
 * written once the engine has loaded, with the start-up time.
 */
public final class ConformanceRunner {
  private ConformanceRunner() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    // The engine prints progress on stdout: keep it off the protocol stream.
    System.setOut(System.err);
    long start = System.nanoTime();
    ValidationEngine engine = new ValidationEngine.ValidationEngineBuilder()
        .withVersion("4.0.1")
        .withNoTerminologyServer()
        .withCanRunWithoutTerminologyServer(true)
        .withUserAgent("pontis-conformance")
        .fromSource("hl7.fhir.r4.core#4.0.1");
    engine.loadPackage("hl7.fhir.uv.ips", "2.0.0");
    // Settings that match this node's validator (docs/validation.md, "The differential harness"):
    // the official IPS examples use example.org URLs, and this node does not judge URLs by host;
    // references outside a Bundle are not resolved (the engine cannot fetch them here); an
    // extension whose definition is not loaded is reported but allowed (-extension any).
    engine.getDefaultInstanceValidatorParameters()
        .setAllowExampleUrls(true)
        .setAssumeValidRestReferences(true)
        .addExtension("any");
    engine.setAssumeValidRestReferences(true);
    engine.prepare();
    out.println("{\"ready\":true,\"startupMs\":" + (System.nanoTime() - start) / 1_000_000 + "}");

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.isBlank()) continue;
      String[] parts = line.split("\t", -1);
      String file = parts[0];
      List<String> profiles = new ArrayList<>();
      if (parts.length > 1 && !parts[1].isEmpty()) profiles.add(parts[1]);
      int repetitions = parts.length > 2 && !parts[2].isEmpty() ? Integer.parseInt(parts[2]) : 1;
      StringBuilder json = new StringBuilder("{\"file\":").append(quote(file));
      try {
        byte[] bytes = Files.readAllBytes(Path.of(file));
        List<ValidationMessage> messages = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < repetitions; i++) {
          messages = new ArrayList<>();
          long t = System.nanoTime();
          engine.validate(bytes, FhirFormat.JSON, profiles, messages);
          times.add(System.nanoTime() - t);
        }
        json.append(",\"ms\":[");
        for (int i = 0; i < times.size(); i++) json.append(i == 0 ? "" : ",").append(times.get(i) / 1_000_000.0);
        json.append("],\"issues\":[");
        boolean first = true;
        for (ValidationMessage m : messages) {
          json.append(first ? "" : ",").append("{\"severity\":").append(quote(m.getLevel().toCode()))
              .append(",\"type\":").append(quote(m.getType() == null ? "" : m.getType().toCode()))
              .append(",\"location\":").append(quote(m.getLocation()))
              .append(",\"id\":").append(quote(m.getMessageId()))
              .append(",\"message\":").append(quote(m.getMessage())).append('}');
          first = false;
        }
        json.append(']');
      } catch (Exception | StackOverflowError e) {
        json.append(",\"failure\":").append(quote(e.getClass().getSimpleName() + ": " + e.getMessage()));
      }
      out.println(json.append('}'));
    }
  }

  private static String quote(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
        }
      }
    }
    return b.append('"').toString();
  }
}
