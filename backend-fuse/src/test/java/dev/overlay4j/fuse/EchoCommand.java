package dev.overlay4j.fuse;

import dev.overlay4j.cli.Command;
import java.io.PrintStream;
import java.util.List;

/** A subcommand registered for the tests through META-INF/services, as backend-s3 registers push. */
public final class EchoCommand implements Command {

    @Override
    public String name() {
        return "echo-test";
    }

    @Override
    public String summary() {
        return "echo-test WORDS  print the words (a test command)";
    }

    @Override
    public int run(List<String> arguments, PrintStream out, PrintStream err) {
        out.println(String.join(" ", arguments));
        return arguments.isEmpty() ? 2 : 0;
    }
}
