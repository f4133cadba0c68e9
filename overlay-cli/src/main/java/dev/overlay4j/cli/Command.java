package dev.overlay4j.cli;

import java.io.PrintStream;
import java.util.List;

/**
 * A subcommand of the {@code overlay4j} command line contributed by a module and found with
 * {@link java.util.ServiceLoader}: {@code overlay4j NAME ARGUMENTS...} runs it. backend-s3 adds
 * {@code push}, for example.
 */
public interface Command {

    /** The word that selects this command, lower case, e.g. {@code push}. */
    String name();

    /** One line for {@code overlay4j --help}. */
    String summary();

    /**
     * Runs the command.
     *
     * @param arguments the words after the command's name
     * @return the exit status: 0 for success, 2 for a usage error, 1 for any other failure
     */
    int run(List<String> arguments, PrintStream out, PrintStream err);
}
