package dev.overlay4j.filesystem;

import java.util.regex.PatternSyntaxException;

/** Translates the glob syntax of {@link java.nio.file.FileSystem#getPathMatcher} into a regular expression. */
final class Globs {

    private static final String REGEX_SPECIAL = ".^$+*?{}[]|()\\";

    private Globs() {
    }

    static String toRegex(String glob) {
        StringBuilder regex = new StringBuilder("^");
        boolean inGroup = false;
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '\\' -> {
                    if (++i == glob.length()) {
                        throw new PatternSyntaxException("no character to escape", glob, i - 1);
                    }
                    literal(regex, glob.charAt(i));
                }
                case '*' -> {
                    if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                        regex.append(".*"); // "**" crosses directory boundaries
                        i++;
                    } else {
                        regex.append("[^/]*");
                    }
                }
                case '?' -> regex.append("[^/]");
                case '[' -> i = bracket(glob, i, regex);
                case '{' -> {
                    if (inGroup) {
                        throw new PatternSyntaxException("cannot nest groups", glob, i);
                    }
                    regex.append("(?:(?:");
                    inGroup = true;
                }
                case '}' -> {
                    if (inGroup) {
                        regex.append("))");
                        inGroup = false;
                    } else {
                        literal(regex, c);
                    }
                }
                case ',' -> regex.append(inGroup ? ")|(?:" : ",");
                default -> literal(regex, c);
            }
        }
        if (inGroup) {
            throw new PatternSyntaxException("missing '}'", glob, glob.length() - 1);
        }
        return regex.append('$').toString();
    }

    /** Copies a bracket expression starting at {@code start}; returns the index of its closing ']'. */
    private static int bracket(String glob, int start, StringBuilder regex) {
        regex.append("[[^/]&&[");
        int i = start + 1;
        if (i < glob.length() && (glob.charAt(i) == '!' || glob.charAt(i) == '^')) {
            regex.append('^');
            i++;
        }
        boolean first = true;
        for (; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == ']' && !first) {
                regex.append("]]");
                return i;
            }
            if (c == '/') {
                throw new PatternSyntaxException("explicit '/' not allowed in a bracket expression", glob, i);
            }
            if (c == '[' || c == '&' || c == '\\' || c == ']') {
                regex.append('\\');
            }
            regex.append(c);
            first = false;
        }
        throw new PatternSyntaxException("missing ']'", glob, glob.length() - 1);
    }

    private static void literal(StringBuilder regex, char c) {
        if (REGEX_SPECIAL.indexOf(c) >= 0) {
            regex.append('\\');
        }
        regex.append(c);
    }
}
