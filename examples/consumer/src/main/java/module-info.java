/** No requires: the overlay: provider and the directory layers are found with ServiceLoader. */
module example.consumer {
}
