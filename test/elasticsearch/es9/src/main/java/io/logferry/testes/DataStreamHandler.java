package io.logferry.testes;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.ClusterState;
import org.elasticsearch.cluster.ClusterStateUpdateTask;
import org.elasticsearch.cluster.metadata.DataStream;
import org.elasticsearch.cluster.metadata.MetadataDeleteIndexService;
import org.elasticsearch.cluster.metadata.ProjectMetadata;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.Priority;
import org.elasticsearch.common.Strings;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.index.Index;
import org.elasticsearch.index.IndexNotFoundException;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestChannel;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

/**
 * `GET /_data_stream[/{name}]` and `DELETE /_data_stream/{name}`, which Elasticsearch serves from its
 * data-streams module (not published on Maven Central; without it the paths answer 405). GET lists, from the
 * cluster state, the data streams the server itself created from a composable template (`data_stream: {}`)
 * with their backing indices; DELETE removes a data stream and its backing indices the way the module's
 * DeleteDataStreamTransportAction does (one cluster state update; the server's MetadataDeleteIndexService).
 * Creating, rolling over and writing to data streams is the server's own code.
 */
final class DataStreamHandler extends BaseRestHandler {
    private final Supplier<ClusterService> clusterService;

    DataStreamHandler(Supplier<ClusterService> clusterService) {
        this.clusterService = clusterService;
    }

    @Override
    public String getName() {
        return "logferry_data_streams_action";
    }

    @Override
    public List<Route> routes() {
        return List.of(
                new Route(RestRequest.Method.GET, "/_data_stream"),
                new Route(RestRequest.Method.GET, "/_data_stream/{name}"),
                new Route(RestRequest.Method.DELETE, "/_data_stream/{name}"));
    }

    @Override
    protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
        final String[] names = Strings.splitStringByCommaToArray(request.param("name", "*"));
        if (request.method() == RestRequest.Method.DELETE) return channel -> delete(names, channel);
        return channel -> {
            final Collection<DataStream> all = clusterService.get().state().metadata().getProject().dataStreams().values();
            final List<DataStream> found;
            try {
                found = matching(all, names);
            } catch (IndexNotFoundException e) {
                channel.sendResponse(new RestResponse(channel, e));
                return;
            }
            final XContentBuilder body = channel.newBuilder();
            body.startObject().startArray("data_streams");
            for (DataStream stream : found) {
                body.startObject();
                body.field("name", stream.getName());
                body.startObject("timestamp_field").field("name", "@timestamp").endObject();
                body.startArray("indices");
                for (Index index : stream.getIndices()) {
                    body.startObject().field("index_name", index.getName()).field("index_uuid", index.getUUID()).endObject();
                }
                body.endArray();
                body.field("generation", stream.getGeneration());
                body.field("hidden", stream.isHidden());
                body.field("system", stream.isSystem());
                body.endObject();
            }
            body.endArray().endObject();
            channel.sendResponse(new RestResponse(RestStatus.OK, body));
        };
    }

    private static List<DataStream> matching(Collection<DataStream> all, String[] names) {
        final List<DataStream> found = new ArrayList<>();
        for (String name : names) {
            boolean matched = false;
            for (DataStream stream : all) {
                if (Regex.simpleMatch(name, stream.getName())) {
                    if (!found.contains(stream)) found.add(stream);
                    matched = true;
                }
            }
            if (!matched && !Regex.isSimpleMatchPattern(name)) throw new IndexNotFoundException(name);
        }
        return found;
    }

    private void delete(String[] names, RestChannel channel) {
        final ClusterService cluster = clusterService.get();
        cluster.submitUnbatchedStateUpdateTask("logferry-delete-data-stream", new ClusterStateUpdateTask(Priority.HIGH) {
            @Override
            public ClusterState execute(ClusterState current) {
                final ProjectMetadata project = current.metadata().getProject();
                final List<DataStream> streams = matching(project.dataStreams().values(), names);
                final Set<Index> backing = new HashSet<>();
                final ProjectMetadata.Builder builder = ProjectMetadata.builder(project);
                for (DataStream stream : streams) {
                    backing.addAll(stream.getIndices());
                    builder.removeDataStream(stream.getName());
                }
                return MetadataDeleteIndexService.deleteIndices(ClusterState.builder(current).putProjectMetadata(builder).build(), backing, cluster.getSettings());
            }

            @Override
            public void onFailure(Exception e) {
                try {
                    channel.sendResponse(new RestResponse(channel, e));
                } catch (Exception ignored) {
                    // The client went away.
                }
            }

            @Override
            public void clusterStateProcessed(ClusterState before, ClusterState after) {
                channel.sendResponse(new RestResponse(RestStatus.OK, "application/json", "{\"acknowledged\":true}"));
            }
        });
    }
}
